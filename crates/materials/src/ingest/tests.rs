use ainative_domain::{MaterialContentType, Stage};
use pdf_extract::content::{Content, Operation};
use pdf_extract::{dictionary, Document as Pdf, Object, Stream};

use super::*;
use crate::progress::NoProgress;

use crate::fixtures::MARKDOWN;

fn source(content_type: MaterialContentType, bytes: &[u8]) -> MaterialSource<'_> {
    MaterialSource {
        material_id: Uuid::nil(),
        content_type,
        bytes,
    }
}

fn rejection(content_type: MaterialContentType, bytes: &[u8]) -> RejectedMaterial {
    match ingest(
        &source(content_type, bytes),
        &ChunkingConfig::default(),
        &NoProgress,
    ) {
        Err(MaterialError::Rejected(reason)) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// A PDF with one page per entry of `pages`, each line drawn with the standard Helvetica font.
pub(crate) fn pdf(pages: &[&[&str]]) -> Vec<u8> {
    build_pdf(pages, &vec![true; pages.len()])
}

/// Like [`pdf`], with a `MediaBox` only on the pages marked true (`pdf-extract` panics on a
/// page without one).
fn build_pdf(pages: &[&[&str]], with_media_box: &[bool]) -> Vec<u8> {
    let mut doc = Pdf::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut kids = Vec::new();
    for (lines, media_box) in pages.iter().zip(with_media_box) {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("TL", vec![16.into()]),
            Operation::new("Td", vec![72.into(), 760.into()]),
        ];
        for line in *lines {
            operations.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
            operations.push(Operation::new("T*", vec![]));
        }
        operations.push(Operation::new("ET", vec![]));
        let content = Content { operations };
        let content_id = doc.add_object(Stream::new(
            dictionary! {},
            content.encode().expect("encode content"),
        ));
        let mut page = dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        };
        if *media_box {
            page.set("MediaBox", vec![0.into(), 0.into(), 612.into(), 792.into()]);
        }
        let page_id = doc.add_object(page);
        kids.push(page_id.into());
    }
    let count = i64::try_from(kids.len()).expect("page count");
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("save PDF");
    bytes
}

#[test]
fn markdown_course_notes_become_sectioned_chunks() {
    let seen = std::sync::Mutex::new(Vec::new());
    let sink = |stage: Stage, p: ainative_domain::Progress| {
        assert_eq!(stage, Stage::Ingestion);
        seen.lock().expect("lock").push(p.value());
    };
    let out = ingest(
        &source(MaterialContentType::Markdown, MARKDOWN.as_bytes()),
        &ChunkingConfig::new(120, 20).expect("config"),
        &sink,
    )
    .expect("ingest");
    assert!(out.chunks.len() >= 4, "{} chunks", out.chunks.len());
    assert!(out.warnings.is_empty());
    let sections: Vec<&str> = out
        .chunks
        .iter()
        .filter_map(|c| c.section.as_deref())
        .collect();
    assert!(sections.contains(&"Recursion › Base case"), "{sections:?}");
    let code = out
        .chunks
        .iter()
        .find(|c| c.text.contains("def factorial(n):"))
        .expect("the code block is kept");
    assert!(
        code.text.contains("def factorial(n):\n    if n <= 1:"),
        "code keeps its lines"
    );
    assert!(!out
        .chunks
        .iter()
        .any(|c| c.text.contains("**") || c.text.contains("```")));
    assert_eq!(
        out.total_tokens,
        out.chunks
            .iter()
            .map(|c| u64::from(c.tokens - c.overlap_tokens))
            .sum::<u64>()
    );
    let seen = seen.into_inner().expect("lock");
    assert_eq!(seen.last().copied(), Some(1.0));
}

#[test]
fn spanish_plain_text_keeps_accents_and_paragraphs() {
    let text = "La recursión es una técnica en la que una función se llama a sí misma.\r\n\
                Cada llamada resuelve un problema más pequeño.\r\n\r\n\r\n\
                ¿Cuándo se detiene? Cuando llega al caso base, que se resuelve sin recursión.";
    let out = ingest(
        &source(MaterialContentType::PlainText, text.as_bytes()),
        &ChunkingConfig::default(),
        &NoProgress,
    )
    .expect("ingest");
    assert_eq!(out.chunks.len(), 1);
    assert_eq!(
        out.chunks[0].text,
        "La recursión es una técnica en la que una función se llama a sí misma. \
         Cada llamada resuelve un problema más pequeño.\n\n\
         ¿Cuándo se detiene? Cuando llega al caso base, que se resuelve sin recursión."
    );
    assert_eq!(out.chunks[0].section, None);
}

#[test]
fn a_real_pdf_is_read_page_by_page() {
    let bytes = pdf(&[
        &[
            "Binary search halves the interval at every step.",
            "It needs a sorted array.",
        ],
        &["A hash table maps keys to buckets."],
    ]);
    let out = ingest(
        &source(MaterialContentType::Pdf, &bytes),
        &ChunkingConfig::default(),
        &NoProgress,
    )
    .expect("ingest");
    let text: Vec<&str> = out.chunks.iter().map(|c| c.text.as_str()).collect();
    let all = text.join(" ");
    assert!(all.contains("Binary search halves the interval"), "{all}");
    assert!(all.contains("hash table maps keys"), "{all}");
    assert_eq!(out.chunks[0].section.as_deref(), Some("page 1"));
}

#[test]
fn garbage_and_truncated_pdfs_are_clean_rejections() {
    let garbage = rejection(MaterialContentType::Pdf, b"this is not a pdf at all");
    assert!(matches!(garbage, RejectedMaterial::UnreadablePdf(_)));
    assert!(garbage
        .to_string()
        .starts_with("the PDF could not be read: "));

    let good = pdf(&[&["Some text that will be cut off."]]);
    for cut in [10, good.len() / 3, good.len() / 2, good.len() - 40] {
        let reason = rejection(MaterialContentType::Pdf, &good[..cut]);
        assert!(
            matches!(
                reason,
                RejectedMaterial::UnreadablePdf(_) | RejectedMaterial::PdfWithoutText
            ),
            "cut at {cut}: {reason:?}"
        );
    }
    let mut header_only = b"%PDF-1.5\n".to_vec();
    header_only.extend(std::iter::repeat_n(0xffu8, 300));
    assert!(matches!(
        rejection(MaterialContentType::Pdf, &header_only),
        RejectedMaterial::UnreadablePdf(_)
    ));
}

#[test]
fn an_extractor_panic_costs_the_page_not_the_worker() {
    let bytes = build_pdf(
        &[&["Stacks are last in, first out."], &["This page panics."]],
        &[true, false],
    );
    let out = ingest(
        &source(MaterialContentType::Pdf, &bytes),
        &ChunkingConfig::default(),
        &NoProgress,
    )
    .expect("the readable page is kept");
    assert!(out.chunks[0].text.contains("Stacks are last in"));
    assert!(!out.chunks[0].text.contains("panics"));
    assert_eq!(
        out.warnings,
        ["1 page(s) of the PDF could not be read and were skipped: 2"]
    );

    let only_bad = build_pdf(&[&["This page panics."]], &[false]);
    assert_eq!(
        rejection(MaterialContentType::Pdf, &only_bad),
        RejectedMaterial::UnreadablePdf("no page could be read".to_owned())
    );
}

#[test]
fn a_pdf_without_text_is_refused_as_such() {
    let bytes = pdf(&[&[]]);
    assert_eq!(
        rejection(MaterialContentType::Pdf, &bytes),
        RejectedMaterial::PdfWithoutText
    );
}

#[test]
fn text_that_is_not_utf8_or_empty_is_refused() {
    assert_eq!(
        rejection(MaterialContentType::PlainText, b"caf\xe9 latin-1"),
        RejectedMaterial::NotUtf8 { offset: 3 }
    );
    assert_eq!(
        rejection(MaterialContentType::Markdown, b"  \n\n<!-- nothing -->\n"),
        RejectedMaterial::Empty
    );
    assert_eq!(
        rejection(MaterialContentType::PlainText, b"\x01\x02 \t\n"),
        RejectedMaterial::Empty
    );
}

#[test]
fn ingestion_is_deterministic() {
    let src = source(MaterialContentType::Markdown, MARKDOWN.as_bytes());
    let a = ingest(&src, &ChunkingConfig::default(), &NoProgress).expect("ingest");
    let b = ingest(&src, &ChunkingConfig::default(), &NoProgress).expect("ingest");
    assert_eq!(a, b);
}
