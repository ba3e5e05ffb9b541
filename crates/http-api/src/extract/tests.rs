use actix_web::test::TestRequest;
use actix_web::ResponseError;
use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Body {
    title: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    policies: Option<serde_json::Map<String, serde_json::Value>>,
}

fn request(content_type: Option<&str>, body: &'static str) -> (HttpRequest, Payload) {
    let mut req = TestRequest::post().app_data(web::PayloadConfig::new(1024));
    if let Some(ct) = content_type {
        req = req.insert_header((header::CONTENT_TYPE, ct));
    }
    req.set_payload(body).to_http_parts()
}

async fn json<T: DeserializeOwned + 'static>(
    content_type: Option<&str>,
    body: &'static str,
) -> Result<T, ApiError> {
    let (req, mut payload) = request(content_type, body);
    Json::<T>::from_request(&req, &mut payload)
        .await
        .map(Json::into_inner)
}

async fn optional<T: DeserializeOwned + 'static>(
    content_type: Option<&str>,
    body: &'static str,
) -> Result<Option<T>, ApiError> {
    let (req, mut payload) = request(content_type, body);
    OptionalJson::<T>::from_request(&req, &mut payload)
        .await
        .map(OptionalJson::into_inner)
}

fn field_of(err: &ApiError) -> (u16, Option<String>) {
    let field = match err {
        ApiError::Validation(errors) => errors.0.first().map(|e| e.field.clone()),
        _ => None,
    };
    (err.status_code().as_u16(), field)
}

const JSON: Option<&str> = Some("application/json");

#[actix_web::test]
async fn nul_in_any_string_is_a_422_naming_its_field() {
    for (body, field) in [
        (r#"{"title": "a\u0000b"}"#, "title"),
        (r#"{"title": "t", "tags": ["ok", "\u0000"]}"#, "tags[1]"),
        (
            r#"{"title": "t", "policies": {"risk_thresholds": {"x": "\u0000"}}}"#,
            "policies.risk_thresholds.x",
        ),
        (r#"{"title": "t", "policies": {"k\u0000": 1}}"#, "policies"),
    ] {
        let err = json::<Body>(JSON, body).await.expect_err(body);
        assert_eq!(field_of(&err), (422, Some(field.to_owned())), "{body}");
        assert!(
            matches!(&err, ApiError::Validation(e) if e.0[0].message == NUL_MESSAGE),
            "{err:?}"
        );
    }
    // The same check holds for optional bodies.
    let err = optional::<Body>(JSON, r#"{"title": "\u0000"}"#)
        .await
        .expect_err("nul");
    assert_eq!(field_of(&err), (422, Some("title".to_owned())));
}

#[actix_web::test]
async fn an_escaped_backslash_before_u0000_is_plain_text() {
    let body = json::<Body>(JSON, r#"{"title": "C:\\u0000"}"#)
        .await
        .expect("no NUL here");
    assert_eq!(body.title, "C:\\u0000");
}

#[actix_web::test]
async fn a_required_body_keeps_the_spec_errors() {
    let cases: [(Option<&str>, &'static str, u16); 6] = [
        (Some("text/plain"), r#"{"title": "t"}"#, 415),
        (None, r#"{"title": "t"}"#, 415),
        (JSON, "", 400),
        (JSON, r#"{"title": 1"#, 400),
        (JSON, r#"{"title": "t", "roles": ["admin"]}"#, 422),
        (JSON, r#"{"tags": []}"#, 422),
    ];
    for (ct, body, status) in cases {
        let err = json::<Body>(ct, body).await.expect_err(body);
        assert_eq!(err.status_code().as_u16(), status, "{ct:?} {body}");
    }
    let ok = json::<Body>(Some("application/merge-patch+json"), r#"{"title": "t"}"#)
        .await
        .expect("+json types are JSON");
    assert_eq!(ok.title, "t");
    let big: &'static str =
        Box::leak(format!(r#"{{"title": "{}"}}"#, "x".repeat(2000)).into_boxed_str());
    let err = json::<Body>(JSON, big).await.expect_err("too big");
    assert_eq!(err.status_code().as_u16(), 413);
}

#[actix_web::test]
async fn an_optional_body_may_be_absent_empty_or_null() {
    for (ct, body) in [
        (None, ""),
        (JSON, ""),
        (Some("text/plain"), ""),
        (JSON, "null"),
    ] {
        let out = optional::<Body>(ct, body).await;
        assert!(matches!(out, Ok(None)), "{ct:?} {body:?}: {out:?}");
    }
    let some = optional::<Body>(JSON, r#"{"title": "t"}"#)
        .await
        .expect("body");
    assert_eq!(some.map(|b| b.title), Some("t".to_owned()));
    for (ct, body, status) in [
        (Some("text/plain"), "hello", 415),
        (None, "hello", 415),
        (JSON, "{", 400),
        (JSON, r#"{"nope": 1}"#, 422),
    ] {
        let err = optional::<Body>(ct, body).await.expect_err(body);
        assert_eq!(err.status_code().as_u16(), status, "{ct:?} {body}");
    }
    assert!(matches!(
        optional::<NoFields>(JSON, "{}").await,
        Ok(Some(_))
    ));
    let err = optional::<NoFields>(JSON, r#"{"refresh_token": "x"}"#)
        .await
        .expect_err("no fields");
    assert_eq!(field_of(&err), (422, Some("refresh_token".to_owned())));
}

#[derive(Debug, Deserialize)]
struct Params {
    tag: Option<String>,
    limit: Option<i64>,
}

#[test]
fn query_parameters_holding_nul_are_a_422_naming_them() {
    let err = parse_query::<Params>("limit=5&tag=lo%00ops").expect_err("nul");
    assert_eq!(field_of(&err), (422, Some("tag".to_owned())));
    let err = parse_query::<Params>("limit=x").expect_err("type");
    assert_eq!(err.status_code().as_u16(), 400);
    let ok = parse_query::<Params>("tag=loops%20100").expect("fine");
    assert_eq!(ok.tag.as_deref(), Some("loops 100"));
    assert_eq!(ok.limit, None);
    assert_eq!(nul_parameter("a%2500=1"), None, "an encoded percent sign");
}

#[test]
fn the_scan_is_cheap_and_exact() {
    assert!(!may_hold_nul(br#"{"a": "b"}"#));
    assert!(may_hold_nul(br#"{"a": "\u0000"}"#));
    let mut path = String::new();
    let value = serde_json::json!({"a": [{"b": "x"}, {"c": "y\u{0}"}]});
    assert!(nul_path(&value, &mut path));
    assert_eq!(path, "a[1].c");
}
