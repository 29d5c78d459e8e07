//! The request timeout of routes that change a tenant (generate, rollback).
//!
//! Cutting such a request off at an arbitrary point would be wrong after its
//! commit: the change is made, and the client would be told it failed. So
//! these requests run detached from their connection (`detached`: neither the
//! timeout layer nor a client going away drops them) and keep the deadline
//! themselves, up to their commit only. Before it, the work is dropped at the
//! deadline, its tenant session ended on the server (which rolls back what
//! was begun and releases the lock), and the answer is a 408 that says
//! nothing changed. Once the work reaches its commit, it runs to the end and
//! is answered with its result, however long writing the artifacts takes.

use std::future::Future;
use std::time::Duration;

use axum::Json;
use serde_json::Value;
use sqlx::{Connection, PgConnection};
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

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
    pub conn: PgConnection,
    /// Its backend's process id (for `abandon`).
    pub pid: i32,
    /// The tenant's turn on this replica, held until the request ends.
    pub turn: OwnedMutexGuard<()>,
}

/// Waits for the tenant's turn on this replica, makes sure the tenant
/// exists and connects as it, all before `deadline`.
pub async fn connect(state: &Shared, user: &UserId, deadline: Instant) -> Result<Session, ApiError> {
    let connect = async {
        let turn = state.turn(user).await;
        state.provision(user).await?;
        let mut conn = state.connect_tenant(user).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn).await?;
        Ok(Session { conn, pid, turn })
    };
    tokio::time::timeout_at(deadline, connect).await.map_err(|_| timed_out(state.config.request_timeout))?
}

/// Gives up a tenant session whose work was dropped mid-way (a statement may
/// still run on the server, holding the tenant's lock): closes it and ends
/// its backend, which rolls back what it had begun. A role may end its own
/// backends, so the tenant's own connection does it.
pub async fn abandon(state: &Shared, user: &UserId, conn: PgConnection, pid: i32) {
    drop(conn);
    if let Ok(mut other) = state.connect_tenant(user).await {
        let _ = sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(&mut other).await;
        let _ = other.close().await;
    }
}
