use crate::tutoring::wire_enum;

/// The kinds of material an instructor can upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaterialContentType {
    /// CommonMark (with tables, footnotes and strikethrough); headings bound sections.
    Markdown,
    /// UTF-8 text; blank lines bound paragraphs.
    PlainText,
    /// A PDF with a text layer (scanned images carry no text and are refused).
    Pdf,
}
wire_enum!(MaterialContentType {
    Markdown => "text/markdown",
    PlainText => "text/plain",
    Pdf => "application/pdf",
});

/// A media type that is not one of [`MaterialContentType`] (maps to 415).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported content type '{0}' (expected text/markdown, text/plain or application/pdf)")]
pub struct UnsupportedContentType(pub String);

impl MaterialContentType {
    /// Parses a `Content-Type` header value: case-insensitive, parameters such as
    /// `; charset=utf-8` ignored, and `text/x-markdown` accepted as markdown.
    pub fn from_media_type(value: &str) -> Result<Self, UnsupportedContentType> {
        let essence = value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/markdown" | "text/x-markdown" => Ok(Self::Markdown),
            "text/plain" => Ok(Self::PlainText),
            "application/pdf" => Ok(Self::Pdf),
            _ => Err(UnsupportedContentType(value.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_parse_with_parameters_and_case() {
        let parse = MaterialContentType::from_media_type;
        assert_eq!(
            parse("text/markdown; charset=UTF-8"),
            Ok(MaterialContentType::Markdown)
        );
        assert_eq!(parse("Text/X-Markdown"), Ok(MaterialContentType::Markdown));
        assert_eq!(parse(" text/plain "), Ok(MaterialContentType::PlainText));
        assert_eq!(parse("application/pdf"), Ok(MaterialContentType::Pdf));
        assert!(parse("image/png").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn wire_names_round_trip() {
        for kind in MaterialContentType::ALL {
            assert_eq!(kind.as_str().parse::<MaterialContentType>(), Ok(*kind));
            let json = serde_json::to_string(kind).expect("serialise");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
