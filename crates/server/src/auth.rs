//! Bearer-token authentication: every route but the operational ones
//! (health, readiness, metrics, the OpenAPI document) needs a token. The
//! admin token (from configuration) may act for any user; a user token, issued
//! by the admin, only for its own userID.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant::UserId;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    User(UserId),
}

impl Caller {
    /// Refuses a user token acting for another user.
    pub fn may_act_for(&self, user: &UserId) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::User(own) if own == user => Ok(()),
            Caller::User(_) => Err(ApiError::Forbidden("this token may not act for that userID".into())),
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::User(_) => Err(ApiError::Forbidden("only the admin token may do this".into())),
        }
    }

    /// How the caller is recorded in logs and histories.
    pub fn label(&self) -> String {
        match self {
            Caller::Admin => "admin".into(),
            Caller::User(user) => format!("user:{}", user.as_str()),
        }
    }
}

pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference, so timing does not
/// reveal how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthorized)?;
        let token = header.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()).ok_or(ApiError::Unauthorized)?;
        if let Some(admin) = &state.config.admin_token
            && same(token, admin)
        {
            return Ok(Caller::Admin);
        }
        match state.backend.token_user(&token_digest(token)).await? {
            Some(user) => Ok(Caller::User(UserId::parse(&user)?)),
            None => Err(ApiError::Unauthorized),
        }
    }
}
