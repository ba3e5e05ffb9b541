//! An incremental decoder of `text/event-stream` bodies as OpenAI-compatible servers send them.
//!
//! Network chunks split the body anywhere: inside a line, inside a `\r\n` pair, inside a
//! multi-byte UTF-8 character. The decoder buffers bytes until a line is complete and yields
//! the payload of every `data:` line. Each `data:` line is taken as one payload (OpenAI,
//! Ollama, vLLM and llama.cpp put one JSON document per line), which also copes with servers
//! that omit the blank line between events. Comments (`:`), `event:`, `id:` and `retry:`
//! lines are ignored.

/// Buffers a byte stream and yields `data:` payloads as their lines complete.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buffer: Vec<u8>,
    /// Bytes of `buffer` already searched for a newline.
    scanned: usize,
}

impl SseDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk; returns the payloads of the `data:` lines it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(chunk);
        let mut payloads = Vec::new();
        let mut start = 0;
        let mut pos = self.scanned;
        while let Some(offset) = self.buffer[pos..].iter().position(|b| *b == b'\n') {
            let end = pos + offset;
            if let Some(payload) = data_of(&self.buffer[start..end]) {
                payloads.push(payload);
            }
            start = end + 1;
            pos = start;
        }
        self.buffer.drain(..start);
        self.scanned = self.buffer.len();
        payloads
    }

    /// Ends the input: the payload of a last line not terminated by a newline, if any.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buffer);
        self.scanned = 0;
        data_of(&rest)
    }
}

/// The payload of one line (without its `\n`), if it is a `data:` line.
fn data_of(line: &[u8]) -> Option<String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let value = line.strip_prefix(b"data:")?;
    let value = value.strip_prefix(b" ").unwrap_or(value);
    Some(String::from_utf8_lossy(value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "data: {\"a\":\"héllo\"}\r\n\r\n: keep-alive\n\nevent: message\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";

    fn expected() -> Vec<String> {
        vec![
            "{\"a\":\"héllo\"}".to_owned(),
            "{\"b\":2}".to_owned(),
            "[DONE]".to_owned(),
        ]
    }

    #[test]
    fn decodes_a_whole_body() {
        let mut decoder = SseDecoder::new();
        let mut out = decoder.feed(BODY.as_bytes());
        out.extend(decoder.finish());
        assert_eq!(out, expected());
    }

    #[test]
    fn any_split_of_the_body_gives_the_same_payloads() {
        let bytes = BODY.as_bytes();
        for cut in 0..=bytes.len() {
            let mut decoder = SseDecoder::new();
            let mut out = decoder.feed(&bytes[..cut]);
            out.extend(decoder.feed(&bytes[cut..]));
            out.extend(decoder.finish());
            assert_eq!(out, expected(), "split at byte {cut}");
        }
    }

    #[test]
    fn byte_by_byte_feeding_gives_the_same_payloads() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for byte in BODY.as_bytes() {
            out.extend(decoder.feed(std::slice::from_ref(byte)));
        }
        out.extend(decoder.finish());
        assert_eq!(out, expected());
    }

    #[test]
    fn a_last_line_without_newline_is_flushed_by_finish() {
        let mut decoder = SseDecoder::new();
        assert!(decoder.feed(b"data: [DO").is_empty());
        assert!(decoder.feed(b"NE]").is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("[DONE]"));
        assert_eq!(decoder.finish(), None);
    }
}
