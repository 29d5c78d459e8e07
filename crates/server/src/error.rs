//! Every error the service returns: a status and a JSON body
//! `{"error": {"code", "message", …}}`, so clients branch on `code` and people
//! read `message`. A user's mistake is a 4xx that says what to change; only
//! the service's own failures are 5xx, and they say what was left unchanged.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String, details: Value },
    #[error("authentication required: send `Authorization: Bearer <token>`")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The plan was not applied: a hazard was not allowed, or it cannot succeed.
    #[error("{message}")]
    Conflict { code: &'static str, message: String, plan: Value },
    /// The request took longer than the configured timeout; the message says
    /// what was left unchanged.
    #[error("{0}")]
    Timeout(String),
    /// The database refused or failed; the tenant is where it was.
    #[error("{0}")]
    Database(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code, message: message.into(), details: Value::Null }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Timeout(_) => "timeout",
            ApiError::Database(_) => "database-error",
            ApiError::Internal(_) => "internal-error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        let mut body = json!({});
        match &self {
            ApiError::BadRequest { details, .. } if !details.is_null() => error["details"] = details.clone(),
            ApiError::Conflict { plan, .. } => body["plan"] = plan.clone(),
            _ => {}
        }
        body["error"] = error;
        (status, Json(body)).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Database(format!("the database failed: {error}; nothing was changed"))
    }
}

impl From<object_store::Error> for ApiError {
    fn from(error: object_store::Error) -> Self {
        ApiError::Internal(format!("the artifact store failed: {error}"))
    }
}
