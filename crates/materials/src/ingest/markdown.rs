//! Markdown (CommonMark with tables, footnotes, strikethrough, task lists and front matter)
//! into sections: every heading starts a section titled by its heading path.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{Block, BlockKind, Document, Section};
use crate::text::collapse_whitespace;

/// Separates the levels of a heading path.
const PATH_SEPARATOR: &str = " › ";

pub(super) fn parse(text: &str) -> Document {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut builder = Builder::default();
    for event in Parser::new_ext(text, options) {
        builder.event(event);
    }
    builder.finish()
}

#[derive(Default)]
struct Builder {
    sections: Vec<Section>,
    current: Section,
    headings: Vec<(usize, String)>,
    buffer: String,
    in_code: bool,
    in_heading: bool,
    in_metadata: bool,
}

impl Builder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                self.flush(BlockKind::Prose);
                self.in_heading = true;
            }
            Event::End(TagEnd::Heading(level)) => {
                self.in_heading = false;
                let title = collapse_whitespace(&std::mem::take(&mut self.buffer));
                self.start_section(level as usize, title);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                self.flush(BlockKind::Prose);
                self.in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                self.flush(BlockKind::Code);
                self.in_code = false;
            }
            Event::Start(Tag::MetadataBlock(_)) => self.in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => self.in_metadata = false,
            Event::Start(Tag::Paragraph | Tag::Item | Tag::TableRow | Tag::TableHead)
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_)
                | TagEnd::FootnoteDefinition,
            )
            | Event::Rule => self.flush(BlockKind::Prose),
            Event::End(TagEnd::TableCell) => self.buffer.push_str(" | "),
            Event::Text(text) | Event::Code(text) | Event::InlineMath(text)
                if !self.in_metadata =>
            {
                self.buffer.push_str(&text);
            }
            Event::DisplayMath(text) => {
                self.buffer.push(' ');
                self.buffer.push_str(&text);
                self.buffer.push(' ');
            }
            Event::SoftBreak | Event::HardBreak => self.buffer.push('\n'),
            // Raw HTML, footnote markers and task boxes carry no prose.
            _ => {}
        }
    }

    fn start_section(&mut self, level: usize, title: String) {
        if !self.current.blocks.is_empty() {
            self.sections.push(std::mem::take(&mut self.current));
        }
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        if title.is_empty() {
            self.current.title = self.path();
            return;
        }
        self.headings.push((level, title.clone()));
        self.current.title = self.path();
        self.current.blocks.push(Block {
            kind: BlockKind::Heading,
            text: title,
        });
    }

    fn path(&self) -> Option<String> {
        if self.headings.is_empty() {
            return None;
        }
        let names: Vec<&str> = self.headings.iter().map(|(_, t)| t.as_str()).collect();
        Some(names.join(PATH_SEPARATOR))
    }

    /// Ends the block being collected (nothing inside a heading: its text is the title).
    fn flush(&mut self, kind: BlockKind) {
        if self.in_heading {
            return;
        }
        let text = std::mem::take(&mut self.buffer);
        let kind = if self.in_code { BlockKind::Code } else { kind };
        let text = match kind {
            BlockKind::Code => text.trim_end().to_owned(),
            _ => text.trim().to_owned(),
        };
        let text = text.trim_end_matches(" |").to_owned();
        if !text.trim().is_empty() {
            self.current.blocks.push(Block { kind, text });
        }
    }

    fn finish(mut self) -> Document {
        self.flush(BlockKind::Prose);
        if !self.current.blocks.is_empty() {
            self.sections.push(self.current);
        }
        Document {
            sections: self.sections,
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(doc: &Document) -> Vec<(Option<&str>, BlockKind, &str)> {
        doc.sections
            .iter()
            .flat_map(|s| {
                s.blocks
                    .iter()
                    .map(move |b| (s.title.as_deref(), b.kind, b.text.as_str()))
            })
            .collect()
    }

    #[test]
    fn headings_bound_sections_with_their_path() {
        let doc = parse(
            "---\ntitle: secret front matter\n---\n\nIntro text.\n\n# Loops\n\nA *loop* repeats.\n\n\
             ## For loops\n\n- item one\n- item `two`\n\n```python\nfor i in range(3):\n    print(i)\n```\n\n\
             # Functions\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div>raw html</div>\n",
        );
        assert_eq!(
            blocks(&doc),
            vec![
                (None, BlockKind::Prose, "Intro text."),
                (Some("Loops"), BlockKind::Heading, "Loops"),
                (Some("Loops"), BlockKind::Prose, "A loop repeats."),
                (Some("Loops › For loops"), BlockKind::Heading, "For loops"),
                (Some("Loops › For loops"), BlockKind::Prose, "item one"),
                (Some("Loops › For loops"), BlockKind::Prose, "item two"),
                (
                    Some("Loops › For loops"),
                    BlockKind::Code,
                    "for i in range(3):\n    print(i)"
                ),
                (Some("Functions"), BlockKind::Heading, "Functions"),
                (Some("Functions"), BlockKind::Prose, "a | b"),
                (Some("Functions"), BlockKind::Prose, "1 | 2"),
            ]
        );
        assert!(!doc
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .any(|b| b.text.contains("secret") || b.text.contains("div")));
    }

    #[test]
    fn empty_markdown_has_no_sections() {
        assert!(parse("").sections.is_empty());
        assert!(parse("<!-- only a comment -->\n").sections.is_empty());
    }
}
