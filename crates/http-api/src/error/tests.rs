use super::*;
use actix_web::body::to_bytes;

async fn body_of(err: ApiError) -> (StatusCode, serde_json::Value, HttpResponse) {
    let resp = err.error_response();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = to_bytes(resp.into_body()).await.unwrap();
    let mut rebuilt = HttpResponse::build(status);
    for (k, v) in headers.iter() {
        rebuilt.insert_header((k.clone(), v.clone()));
    }
    (
        status,
        serde_json::from_slice(&bytes).unwrap(),
        rebuilt.finish(),
    )
}

#[actix_web::test]
async fn internal_errors_never_leak_their_detail() {
    let err = ApiError::from(TutoringError::from(ainative_ports::PortError::other_from(
        "query failed",
        std::io::Error::other("password=hunter2 at db.internal:5432"),
    )));
    let detail = err.internal_detail().expect("a 500 has a detail");
    assert_eq!(
        detail,
        "internal server error: storage failure: query failed: password=hunter2 at db.internal:5432"
    );
    let resp = err.error_response();
    assert_eq!(
        resp.extensions().get::<ErrorDetail>().map(|d| d.0.clone()),
        Some(detail)
    );
    let (status, body, _) = body_of(err).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["code"], "INTERNAL");
    assert!(!body.to_string().contains("hunter2"));
    assert!(!body.to_string().contains("5432"));
    assert!(!body.to_string().contains("query failed"));
}

#[test]
fn auth_failures_carry_their_reason_not_their_wording() {
    use ainative_auth::TokenRejection;
    let cases = [
        (AuthError::InvalidCredentials, "invalid_credentials", 401),
        (AuthError::AccountInactive, "inactive_account", 403),
        (
            AuthError::InvalidToken(TokenRejection::Replayed),
            "replayed",
            401,
        ),
    ];
    for (err, reason, status) in cases {
        let api = ApiError::from(err);
        assert_eq!(api.auth_failure().map(|r| r.as_str()), Some(reason));
        assert_eq!(api.status_code().as_u16(), status);
        let resp = api.error_response();
        assert_eq!(
            resp.extensions().get::<AuthFailure>().map(|r| r.as_str()),
            Some(reason)
        );
    }
    assert_eq!(
        ApiError::Unauthorized(AuthFailure::MissingToken).to_string(),
        "missing bearer token"
    );
    assert_eq!(
        ApiError::from(AccessDenied::Rule("only admins")).auth_failure(),
        None
    );
}

#[test]
fn every_code_is_listed() {
    let samples = [
        ApiError::BadRequest(String::new()),
        ApiError::Validation(ValidationErrors::single("f", "m")),
        ApiError::Unauthorized(AuthFailure::MissingToken),
        ApiError::AccountInactive,
        ApiError::InvalidToken,
        ApiError::EmailNotVerified,
        ApiError::NotFound(String::new()),
        ApiError::Conflict(String::new()),
        ApiError::AccountExists(String::new()),
        ApiError::PayloadTooLarge,
        ApiError::UnsupportedMediaType(""),
        ApiError::RateLimited {
            message: "",
            retry_after_secs: 1,
        },
        ApiError::MethodNotAllowed(""),
        ApiError::unavailable("down"),
        ApiError::UpstreamTimeout,
        ApiError::UpstreamError(LlmError::CircuitOpen),
        ApiError::Internal("x".into()),
    ];
    for sample in &samples {
        assert!(
            ApiError::CODES.contains(&sample.code()),
            "{}",
            sample.code()
        );
    }
    let codes: std::collections::HashSet<_> = samples.iter().map(ApiError::code).collect();
    assert_eq!(codes.len(), ApiError::CODES.len());
}

#[actix_web::test]
async fn each_kind_has_its_status_code_and_headers() {
    let (s, b, r) = body_of(ApiError::Unauthorized(AuthFailure::MissingToken)).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer");
    let (s, _, r) = body_of(ApiError::RateLimited {
        message: "x",
        retry_after_secs: 0,
    })
    .await;
    assert_eq!(s, 429);
    assert_eq!(r.headers().get("retry-after").unwrap(), "1");
    let (s, _, r) = body_of(ApiError::MethodNotAllowed("GET, POST")).await;
    assert_eq!(s, 405);
    assert_eq!(r.headers().get("allow").unwrap(), "GET, POST");
    let (s, b, _) = body_of(ValidationErrors::single("email", "bad").into()).await;
    assert_eq!(s, 422);
    assert_eq!(b["error"]["details"][0]["field"], "email");
    assert_eq!(b["success"], false);
}

#[test]
fn json_errors_are_classified() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        a: i32,
    }
    let cases = [
        (r#"{"a": 1, "roles": ["admin"]}"#, "VALIDATION_ERROR"),
        (r#"{}"#, "VALIDATION_ERROR"),
        (r#"{"a": "x"}"#, "BAD_REQUEST"),
        (r#"{"a": 1"#, "BAD_REQUEST"),
    ];
    for (json, code) in cases {
        let err = serde_json::from_str::<Body>(json).unwrap_err();
        assert_eq!(from_json_error(&err).code(), code, "{json}");
    }
}
