//! Responses that every operation can give, documented once instead of on each handler, so
//! the document names every status a client (or a fuzzer checking conformance) can see.
//!
//! Which ones an operation gets follows from what it has: any operation can be rate limited
//! (429), fail inside (500) or lose a dependency (503), and can be sent malformed input (400,
//! 422 for query strings); a secured one can be refused (401, 403); one with a body can be
//! sent too much (413), the wrong media type (415) or invalid fields (422); one with path
//! parameters can name nothing (404). Statuses a handler documents itself keep its wording.
//!
//! Handlers document their payload (`body = UserResponse`); the wire has it inside the
//! success envelope `{success, data, message}`, so every 2xx JSON schema is wrapped here
//! (and a 2xx without a body gets the envelope with any `data`), except the few responses
//! that are not enveloped ([`RAW_JSON_PATHS`]).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Content, ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::Modify;

/// Operations whose JSON answers are not enveloped: the RFC 6749 token endpoint.
const RAW_JSON_PATHS: [&str; 1] = ["/api/v1/auth/token"];

/// The name of the error envelope's schema in `components.schemas`.
const ERROR_SCHEMA: &str = "ErrorEnvelope";

/// Adds the error envelope schema and the shared responses to every operation.
pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert(ERROR_SCHEMA.to_owned(), RefOr::T(error_envelope().into()));
        for (path, item) in openapi.paths.paths.iter_mut() {
            let enveloped = !RAW_JSON_PATHS.contains(&path.as_str());
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                if enveloped {
                    envelope_successes(operation);
                }
                add_common(operation);
            }
        }
    }
}

fn add_common(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    let has_path_params = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    };
    add("400", "Malformed request (`BAD_REQUEST`)");
    add(
        "422",
        "Invalid parameters or fields (`VALIDATION_ERROR`), with `details`",
    );
    add(
        "429",
        "Rate limit exceeded (`RATE_LIMITED`), with `Retry-After`",
    );
    add(
        "500",
        "Internal error (`INTERNAL`); the cause is logged under the request id",
    );
    add(
        "503",
        "A dependency is unavailable (`SERVICE_UNAVAILABLE`), with `Retry-After`",
    );
    if secured {
        add(
            "401",
            "Missing, invalid, expired or revoked credentials (`UNAUTHORIZED`)",
        );
        add("403", "Authenticated but not allowed (`FORBIDDEN`)");
    }
    if has_body {
        add("413", "Body larger than the limit (`PAYLOAD_TOO_LARGE`)");
        add("415", "Unsupported content type (`UNSUPPORTED_MEDIA_TYPE`)");
    }
    if has_path_params {
        add(
            "404",
            "No such resource, or not visible to the caller (`NOT_FOUND`)",
        );
    }
}

/// Wraps every 2xx JSON payload schema in the success envelope.
fn envelope_successes(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !status.starts_with('2') || status == "204" {
            continue;
        }
        if response.content.is_empty() {
            response.content.insert(
                "application/json".to_owned(),
                ContentBuilder::new()
                    .schema(Some(success_envelope(None)))
                    .build(),
            );
            continue;
        }
        if let Some(json) = response.content.get_mut("application/json") {
            wrap(json);
        }
    }
}

fn wrap(content: &mut Content) {
    let payload = content.schema.take();
    content.schema = Some(success_envelope(payload));
}

/// `{success: true, data: payload, message: string | null}`; any `data` without a payload.
fn success_envelope(payload: Option<RefOr<Schema>>) -> RefOr<Schema> {
    let data: RefOr<Schema> = payload.unwrap_or_else(|| {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .into(),
        )
    });
    let message =
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]));
    RefOr::T(
        ObjectBuilder::new()
            .property("success", ObjectBuilder::new().schema_type(Type::Boolean))
            .property("data", data)
            .property("message", message)
            .required("success")
            .required("data")
            .into(),
    )
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(ERROR_SCHEMA)))
                    .build(),
            )
            .build(),
    )
}

/// `{success: false, error: {code, message, details, request_id}}`.
fn error_envelope() -> ObjectBuilder {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let detail = ObjectBuilder::new()
        .property("field", string())
        .property("message", string());
    let error = ObjectBuilder::new()
        .property(
            "code",
            string().description(Some("SPEC error code, e.g. `VALIDATION_ERROR`")),
        )
        .property("message", string())
        .property("details", ArrayBuilder::new().items(detail))
        .property("request_id", string())
        .required("code")
        .required("message");
    ObjectBuilder::new()
        .property("success", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("error", error)
        .required("success")
        .required("error")
}
