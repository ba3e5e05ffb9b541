//! The success envelope `{"success": true, "data": ..., "message": ...}`.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    success: bool,
    data: &'a T,
    message: Option<&'a str>,
}

/// 200 with `data`.
pub fn ok<T: Serialize>(data: &T) -> HttpResponse {
    with_status(StatusCode::OK, data, None)
}

/// 201 with `data`.
pub fn created<T: Serialize>(data: &T) -> HttpResponse {
    with_status(StatusCode::CREATED, data, None)
}

/// Any status with `data` and an optional message.
pub fn with_status<T: Serialize>(
    status: StatusCode,
    data: &T,
    message: Option<&str>,
) -> HttpResponse {
    HttpResponse::build(status).json(Envelope {
        success: true,
        data,
        message,
    })
}
