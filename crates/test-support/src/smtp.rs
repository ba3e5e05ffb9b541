//! A tiny SMTP sink on loopback: speaks enough real SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT) for a client such as lettre to deliver to it, and keeps what it received.
//! Recipients whose address starts with [`BOUNCING`] are refused for good (550), as a
//! real server refuses an unknown mailbox.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::wait::wait_for;

/// Recipients starting with this are refused with `550 5.1.1` at `RCPT TO`.
pub const BOUNCING: &str = "bounce";

/// One message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The `MAIL FROM` address.
    pub from: String,
    /// The `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message (headers and body), dot-unstuffed.
    pub data: String,
}

impl ReceivedMail {
    /// The message with quoted-printable soft breaks and `=3D` undone, so links can be
    /// searched for whatever encoding the client chose.
    pub fn decoded(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The value of the first `name=` query parameter in the message (say a link's
    /// `token`): the base64url characters that follow it.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let text = self.decoded();
        let start = text.find(&format!("{name}="))? + name.len() + 1;
        let value: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!value.is_empty()).then_some(value)
    }
}

/// A running sink; stops when dropped.
pub struct SmtpSink {
    port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts on `port` (say one reserved with [`crate::free_port`] while the sink was down).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("SMTP sink binds");
        let port = listener.local_addr().expect("local addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store).await;
                });
            }
        });
        Self {
            port,
            received,
            task,
        }
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT` (no TLS, no authentication).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.received.lock().expect("sink lock").clone()
    }

    /// Messages received so far for `to`.
    pub fn messages_to(&self, to: &str) -> Vec<ReceivedMail> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// Waits (up to `limit`) for the `n`-th message to `to` and returns it.
    pub async fn wait_for_nth(&self, to: &str, n: usize, limit: Duration) -> ReceivedMail {
        wait_for(limit, &format!("mail #{n} to {to}"), || async {
            self.messages_to(to).get(n - 1).cloned()
        })
        .await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg.rfind('>').unwrap_or(arg.len());
    arg.get(start..end).unwrap_or_default().trim().to_owned()
}

async fn session(stream: TcpStream, store: Arc<Mutex<Vec<ReceivedMail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink greets you\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command[10..]);
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = address(&command[8..]);
            if rcpt.to_ascii_lowercase().starts_with(BOUNCING) {
                b"550 5.1.1 no such mailbox\r\n"
            } else {
                to.push(rcpt);
                b"250 OK\r\n"
            }
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(unstuffed);
            }
            store.lock().expect("sink lock").push(ReceivedMail {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if upper == "RSET" {
            to.clear();
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn receives_a_message_over_real_smtp() {
        let sink = SmtpSink::start().await;
        let stream = TcpStream::connect(("127.0.0.1", sink.port()))
            .await
            .unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        assert!(lines.next_line().await.unwrap().unwrap().starts_with("220"));
        for (send, expect) in [
            ("EHLO client\r\n", "250-"),
            ("MAIL FROM:<a@example.com>\r\n", "250"),
            ("RCPT TO:<b@example.com>\r\n", "250"),
            ("DATA\r\n", "354"),
            (
                "Subject: hi\r\n\r\n..dot and link?token=AbC_1-x&x=1\r\n.\r\n",
                "250",
            ),
            ("QUIT\r\n", "221"),
        ] {
            write.write_all(send.as_bytes()).await.unwrap();
            let mut reply = lines.next_line().await.unwrap().unwrap();
            while reply.starts_with("250-") && expect != "250-" {
                reply = lines.next_line().await.unwrap().unwrap();
            }
            assert!(reply.starts_with(expect), "{send:?} -> {reply}");
            if expect == "250-" {
                while reply.starts_with("250-") {
                    reply = lines.next_line().await.unwrap().unwrap();
                }
            }
        }
        let mail = sink
            .wait_for_nth("b@example.com", 1, Duration::from_secs(5))
            .await;
        assert_eq!(mail.from, "a@example.com");
        assert!(mail.data.contains(".dot and link"), "{}", mail.data);
        assert_eq!(mail.query_param("token").as_deref(), Some("AbC_1-x"));
    }
}
