//! A minimal Redis client (RESP2) for tests: enough to look at keys, flush a prefix and ping,
//! without depending on the adapter under test.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A Redis reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR ...`
    Error(String),
    /// `:1`
    Int(i64),
    /// `$n` (None for the null bulk string)
    Bulk(Option<String>),
    /// `*n` (None for the null array)
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The integer of an `Int` reply.
    pub fn int(&self) -> i64 {
        match self {
            Self::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    /// The strings of an array of bulk strings.
    pub fn strings(&self) -> Vec<String> {
        match self {
            Self::Array(Some(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Self::Bulk(Some(s)) | Self::Status(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            Self::Array(None) => Vec::new(),
            other => panic!("expected an array reply, got {other:?}"),
        }
    }
}

/// `host:port` of a `redis://host:port[/db]` URL.
pub fn redis_addr(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("a redis:// URL");
    format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(6379)
    )
}

/// Sends one command to the Redis at `addr` (`host:port`) on a fresh connection, bounded by
/// two seconds.
pub async fn redis_command(addr: &str, args: &[&str]) -> std::io::Result<Reply> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let mut command = format!("*{}\r\n", args.len());
        for arg in args {
            command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(command.as_bytes()).await?;
        let mut reader = BufReader::new(stream);
        read_reply(&mut reader).await
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "redis did not answer",
            ))
        })
}

/// The keys matching `{prefix}*` at `addr`.
pub async fn redis_keys(addr: &str, prefix: &str) -> Vec<String> {
    let pattern = format!("{prefix}*");
    redis_command(addr, &["KEYS", &pattern])
        .await
        .expect("KEYS")
        .strings()
}

/// True when the Redis at `addr` answers `PING`.
pub async fn redis_answers(addr: &str) -> bool {
    matches!(redis_command(addr, &["PING"]).await, Ok(Reply::Status(p)) if p == "PONG")
}

type ReplyFuture<'a> = Pin<Box<dyn Future<Output = std::io::Result<Reply>> + Send + 'a>>;

fn read_reply(reader: &mut BufReader<TcpStream>) -> ReplyFuture<'_> {
    Box::pin(async move {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "empty reply line",
            ));
        }
        let (kind, rest) = line.split_at(1);
        let number = || -> std::io::Result<i64> {
            rest.parse()
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad number"))
        };
        Ok(match kind {
            "+" => Reply::Status(rest.to_owned()),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Int(number()?),
            "$" => match usize::try_from(number()?) {
                Err(_) => Reply::Bulk(None),
                Ok(len) => {
                    let mut buf = vec![0; len + 2];
                    reader.read_exact(&mut buf).await?;
                    buf.truncate(len);
                    Reply::Bulk(Some(String::from_utf8_lossy(&buf).into_owned()))
                }
            },
            "*" => match usize::try_from(number()?) {
                Err(_) => Reply::Array(None),
                Ok(len) => {
                    let mut items = Vec::with_capacity(len);
                    for _ in 0..len {
                        items.push(read_reply(reader).await?);
                    }
                    Reply::Array(Some(items))
                }
            },
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("unexpected reply {line:?}"),
                ))
            }
        })
    })
}
