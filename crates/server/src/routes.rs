//! The routes, and the layers every request passes: body limit, timeout,
//! metrics, and JSON bodies for every error (including those axum and tower
//! produce themselves, such as 404, 405 and 413). The outermost layer,
//! `observe`, sees every response, so every error is JSON and counted.

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use schemaforge_codegen::Language;

use crate::auth::{Caller, token_digest};
use crate::error::ApiError;
use crate::generate::{self, parse_body};
use crate::metrics;
use crate::package;
use crate::state::AppState;
use crate::tenant::UserId;
use crate::versions;

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    let mut router = Router::new();
    for endpoint in crate::openapi::endpoints() {
        let mut handler = (endpoint.handler)();
        if !endpoint.keeps_own_deadline {
            handler = handler.layer(middleware::from_fn_with_state(state.clone(), timeout));
        }
        router = router.route(endpoint.path, handler);
    }
    // The last layer added is the outermost: `observe` sees every response,
    // the timeout's included.
    router.layer(DefaultBodyLimit::max(limit)).layer(middleware::from_fn_with_state(state.clone(), observe)).with_state(state)
}

/// The request timeout of routes that change nothing: past it the handler is
/// dropped and the answer is a 408.
async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(format!("the request took longer than {} s; nothing was changed", limit.as_secs_f64())).into_response(),
    }
}

pub(crate) async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

/// Counts requests (by route template, method and status, with their
/// latency) and turns any error response without a JSON body into
/// `{"error": {"code", "message"}}`.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or(metrics::UNMATCHED, MatchedPath::as_str).to_string();
    let method = request.method().as_str().to_string();
    let response = json_error(next.run(request).await).await;
    state.metrics.observe(&route, &method, response.status().as_u16(), started.elapsed());
    response
}

async fn json_error(response: Response) -> Response {
    let status = response.status();
    let is_json =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        _ if status.is_client_error() => "bad-request",
        _ => "internal-error",
    };
    let message = if text.trim().is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text.trim().to_string() };
    let mut response = (parts.status, Json(json!({"error": {"code": code, "message": message}}))).into_response();
    for (name, value) in parts.headers.iter().filter(|(n, _)| *n != header::CONTENT_TYPE && *n != header::CONTENT_LENGTH) {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// 200 when the database answers and the service's tables are set up
/// (`Backend::ready`); 503 with the reason otherwise.
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.backend.ready()).await {
        Ok(Ok(())) => Ok(Json(json!({"status": "ready"}))),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(ApiError::Database(format!("the database did not answer within {} s", READY_TIMEOUT.as_secs()))),
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        Body::from(state.metrics.render() + &metrics::render_tenant_connections(&state.backend.tenant_connections())),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    #[serde(rename = "userID")]
    user_id: String,
}

/// 32 random bytes from the operating system, in hex.
fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ApiError::Internal(format!("no randomness available: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) async fn issue_token(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let request: TokenRequest = parse_body(&body)?;
    let user = UserId::parse(&request.user_id)?;
    let token = random_token()?;
    state.backend.add_token(&token_digest(&token), &user).await?;
    Ok(Json(json!({"userID": user.as_str(), "token": token})))
}

fn user_of(query: &HashMap<String, String>, caller: &Caller) -> Result<UserId, ApiError> {
    let user = UserId::parse(
        query
            .get("userID")
            .map(String::as_str)
            .ok_or_else(|| ApiError::bad_request("invalid-request", "the `userID` query parameter is required"))?,
    )?;
    caller.may_act_for(&user)?;
    Ok(user)
}

/// The tenant's current versions, read under no lock (a read sees committed versions only).
async fn tenant_versions(state: &AppState, user: &UserId) -> Result<Vec<versions::VersionRow>, ApiError> {
    let mut reader = state.backend.reader(user).await?;
    let rows = reader.versions().await;
    reader.close().await;
    rows
}

pub(crate) async fn list_versions(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&query, &caller)?;
    let rows = tenant_versions(&state, &user).await?;
    let versions: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "version": r.version.to_string(),
                "createdAt": r.created_at,
                "bump": r.bump,
                "message": r.message,
                "migration": r.tag,
                "statements": r.statements,
                "hazards": r.hazards,
                "appliedBy": r.applied_by,
            })
        })
        .collect();
    Ok(Json(json!({"userID": user.as_str(), "latest": rows.last().map(|r| r.version.to_string()), "versions": versions})))
}

/// `GET /client/{version|latest}/{language}?userID=[&format=tar]`: the client's
/// source, or (`format=tar`) an installable npm package of it.
pub(crate) async fn client(
    State(state): State<AppState>,
    caller: Caller,
    Path((version, language)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = user_of(&query, &caller)?;
    let language = Language::from_name(&language).ok_or_else(|| {
        let known: Vec<&str> = Language::ALL.iter().map(|l| l.name()).collect();
        ApiError::NotFound(format!("no client language `{language}`; known: {}", known.join(", ")))
    })?;
    let rows = tenant_versions(&state, &user).await?;
    let row = if version == "latest" { rows.last() } else { rows.iter().find(|r| r.version.to_string() == version) };
    let row = row.ok_or_else(|| ApiError::NotFound(format!("userID {} has no version {version}", user.as_str())))?;
    // The Drizzle schema names the tenant's schema (on PostgreSQL), as the
    // database has it; the plain clients describe rows, wherever they live.
    let schema = match language {
        Language::Drizzle => generate::schema_of(&state.backend, &user, row)?,
        Language::Typescript | Language::Zod => generate::unmapped(state.backend.dialect(), Some(row))?,
    };
    let file = language.generate(&schema);
    let version = row.version.to_string();
    match query.get("format").map(String::as_str) {
        None | Some("source") => Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
                (header::HeaderName::from_static("x-schemaforge-version"), version),
            ],
            file.contents,
        )
            .into_response()),
        Some("tar") => {
            let bytes = package::tarball(user.as_str(), language, &version, &file).map_err(|e| ApiError::Internal(e.to_string()))?;
            let filename = format!("{}-{}-{version}.tgz", user.as_str().to_ascii_lowercase(), language.name());
            Ok((
                [
                    (header::CONTENT_TYPE, "application/gzip".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
                    (header::HeaderName::from_static("x-schemaforge-version"), version),
                ],
                bytes,
            )
                .into_response())
        }
        Some(other) => Err(ApiError::bad_request("invalid-request", format!("format `{other}` is not offered; use `source` or `tar`"))),
    }
}

pub(crate) async fn schema_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(version): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&query, &caller)?;
    let rows = tenant_versions(&state, &user).await?;
    let row = if version == "latest" { rows.last() } else { rows.iter().find(|r| r.version.to_string() == version) };
    let row = row.ok_or_else(|| ApiError::NotFound(format!("userID {} has no version {version}", user.as_str())))?;
    let definition: Value = serde_json::from_str(&row.definition).unwrap_or(Value::Null);
    Ok(Json(json!({
        "userID": user.as_str(),
        "version": row.version.to_string(),
        "createdAt": row.created_at,
        "bump": row.bump,
        "message": row.message,
        "definition": definition,
        "changelog": row.changelog,
        "migration": row.tag,
        "hazards": row.hazards,
    })))
}
