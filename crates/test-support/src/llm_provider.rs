//! A fake OpenAI-compatible provider on a loopback port: it counts `/chat/completions` calls,
//! answers them after a fixed delay, and holds the end of every streamed answer until it is let
//! go. Used by the tests of several instances behind nginx and, as `ainative-fake-provider`, by
//! the load harness (`benches/load.sh`), where the fixed delay stands in for a model.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct FakeLlmProvider {
    port: u16,
    /// Non-streamed completions answered so far.
    pub completions: Arc<AtomicUsize>,
    finish: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FakeLlmProvider {
    /// Starts the fake; non-streamed answers come after `delay`.
    pub async fn start(delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let completions = Arc::new(AtomicUsize::new(0));
        let (finish, finished) = watch::channel(false);
        let counter = completions.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (counter, finished) = (counter.clone(), finished.clone());
                tokio::spawn(async move {
                    let _ = serve(conn, delay, &counter, finished).await;
                });
            }
        });
        Self {
            port,
            completions,
            finish,
            task,
        }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instances' settings for this provider.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LLM_PROVIDER", "openai".to_owned()),
            ("LLM_BASE_URL", format!("http://127.0.0.1:{}/v1", self.port)),
            ("LLM_MODEL", "test-model".to_owned()),
            ("LLM_API_KEY", "sk-fake-provider-key".to_owned()),
            ("LLM_TIMEOUT_SECS", "20".to_owned()),
            ("LLM_MAX_RETRIES", "0".to_owned()),
        ]
    }

    /// Lets every held stream (and every later one) finish.
    pub fn finish_streams(&self) {
        let _ = self.finish.send(true);
    }
}

impl Drop for FakeLlmProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (head and `Content-Length` body) and answers it.
async fn serve(
    mut conn: TcpStream,
    delay: Duration,
    completions: &AtomicUsize,
    mut finished: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0_u8; 4096];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0_u8; 4096];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]);
    if body.contains("\"stream\":true") {
        conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n",
        )
        .await?;
        conn.write_all(&chunk_event(json!({"content": "Hello"}), None))
            .await?;
        conn.flush().await?;
        let _ =
            tokio::time::timeout(Duration::from_secs(60), finished.wait_for(|done| *done)).await;
        conn.write_all(&chunk_event(json!({"content": " from the stream"}), None))
            .await?;
        conn.write_all(&chunk_event(json!({}), Some("stop")))
            .await?;
        conn.write_all(b"data: [DONE]\n\n").await?;
        conn.shutdown().await?;
        return Ok(());
    }
    completions.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(delay).await;
    let answer = json!({
        "id": "x", "object": "chat.completion", "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "One shared answer"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    conn.write_all(response.as_bytes()).await?;
    conn.shutdown().await
}

/// One `chat.completion.chunk` server-sent event.
fn chunk_event(delta: serde_json::Value, finish_reason: Option<&str>) -> Vec<u8> {
    let mut chunk = json!({
        "id": "x", "object": "chat.completion.chunk", "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    });
    if finish_reason.is_some() {
        chunk["usage"] = json!({"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16});
    }
    format!("data: {chunk}\n\n").into_bytes()
}
