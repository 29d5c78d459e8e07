//! The request timeout of routes that change a tenant (generate, rollback).
//!
//! Cutting such a request off at an arbitrary point would be wrong after its
//! commit: the change is made, and the client would be told it failed. So
//! these requests run detached from their connection (`detached`: neither the
//! timeout layer nor a client going away drops them) and keep the deadline
//! themselves, up to their commit only. Before it, the work is dropped at the
//! deadline, its tenant session given up (`backend::Session::abandon`: on
//! PostgreSQL its backend is ended on the server, on SQLite its running
//! statement interrupted and its connection closed; either rolls back what
//! was begun and releases the lock), and the answer is a 408 that says
//! nothing changed. Once the work reaches its commit, it runs to the end and
//! is answered with its result, however long writing the artifacts takes.

use std::future::Future;
use std::time::Duration;

use axum::Json;
use serde_json::Value;
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

use crate::backend;
use crate::error::ApiError;
use crate::state::Shared;
use crate::tenant::UserId;

/// Runs `work` as a task of its own and waits for it, so that dropping the
/// request (a timeout, a client that hangs up) does not drop the work.
pub async fn detached(work: impl Future<Output = Result<Json<Value>, ApiError>> + Send + 'static) -> Result<Json<Value>, ApiError> {
    // A panic's message is not the client's business: the answer says only what to do.
    tokio::spawn(work)
        .await
        .map_err(|_| ApiError::Internal("the request stopped unexpectedly; GET /versions shows where the tenant stands".into()))?
}

/// The answer when the deadline passed before the commit.
pub fn timed_out(limit: Duration) -> ApiError {
    ApiError::Timeout(format!(
        "the request took longer than {} s and was stopped before its commit; nothing was changed, retry",
        limit.as_secs_f64()
    ))
}

/// A tenant session of a request that changes the tenant.
pub struct Session {
    pub tenant: backend::Session,
    /// The tenant's turn on this replica, held until the request ends.
    pub turn: OwnedMutexGuard<()>,
}

/// Waits for the tenant's turn on this replica, makes sure the tenant
/// exists and connects to it, all before `deadline`.
pub async fn connect(state: &Shared, user: &UserId, deadline: Instant) -> Result<Session, ApiError> {
    let connect = async {
        let turn = state.turn(user).await;
        let tenant = state.backend.session(user).await?;
        Ok(Session { tenant, turn })
    };
    tokio::time::timeout_at(deadline, connect).await.map_err(|_| timed_out(state.config.request_timeout))?
}
