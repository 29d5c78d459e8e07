//! A tenant's migration history (`GET /migrations`), going back to an earlier
//! version (`POST /rollback`), and whether its schema still is what its latest
//! version says (`GET /drift`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use schemaforge_model::Schema;
use schemaforge_plan::Hazard;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::backend::{CommitFailed, Session};
use crate::error::ApiError;
use crate::generate::{allowed, parse_body, schema_of};
use crate::state::AppState;
use crate::tenant::UserId;
use crate::versions;
use crate::{artifacts, deadline};

fn user_of(query: &HashMap<String, String>, caller: &Caller) -> Result<UserId, ApiError> {
    let id = query.get("userID").ok_or_else(|| ApiError::bad_request("invalid-request", "the `userID` query parameter is required"))?;
    let user = UserId::parse(id)?;
    caller.may_act_for(&user)?;
    Ok(user)
}

/// `GET /migrations?userID=`: every migration the tenant's database has seen.
pub async fn migrations(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&query, &caller)?;
    let mut reader = state.backend.reader(&user).await?;
    let read = reader.migrations().await;
    reader.close().await;
    let migrations: Vec<Value> = read?
        .into_iter()
        .map(|m| {
            json!({
                "name": m.name,
                "version": m.version,
                "status": m.status,
                "checksum": m.checksum,
                "startedAt": m.started_at,
                "finishedAt": m.finished_at,
                "appliedBy": m.applied_by,
                "durationMs": m.duration_ms,
                "error": m.error,
            })
        })
        .collect();
    Ok(Json(json!({"userID": user.as_str(), "migrations": migrations})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RollbackRequest {
    #[serde(rename = "userID")]
    user_id: String,
    to_version: String,
    #[serde(default)]
    allow_hazards: Vec<String>,
    #[serde(default)]
    dry_run: bool,
}

/// `POST /rollback {userID, toVersion, allowHazards}`: undoes every version
/// after `toVersion` with their down scripts, newest first, in one
/// transaction, gated like a generate, and under the same deadline rules
/// (`deadline`): stopped before its commit at the timeout, never after.
pub async fn rollback(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    let deadline = tokio::time::Instant::now() + state.config.request_timeout;
    deadline::detached(roll_back(state, caller, body, deadline)).await
}

async fn roll_back(state: AppState, caller: Caller, body: Bytes, deadline: tokio::time::Instant) -> Result<Json<Value>, ApiError> {
    let request: RollbackRequest = parse_body(&body)?;
    let user = UserId::parse(&request.user_id)?;
    caller.may_act_for(&user)?;
    let result = locked_rollback(&state, &caller, &user, &request, deadline).await;
    let line = json!({"userID": user.as_str(), "caller": caller.label(), "request": "rollback", "toVersion": request.to_version, "error": result.as_ref().err().map(ToString::to_string)});
    let _ = artifacts::log(&state, &user, &line).await;
    result
}

/// Where a rollback stands at its commit point.
enum Prepared {
    Answer(Json<Value>),
    /// The down scripts ran in the open transaction; `remaining` are the
    /// versions left, `to` the schema they end at.
    Commit {
        remaining: Vec<versions::VersionRow>,
        to: Box<Schema>,
        answer: Json<Value>,
    },
    /// The lock was taken without foreign keys off, which the down scripts
    /// need (SQLite): release it and start over.
    Again,
}

async fn locked_rollback(
    state: &AppState,
    caller: &Caller,
    user: &UserId,
    request: &RollbackRequest,
    deadline: tokio::time::Instant,
) -> Result<Json<Value>, ApiError> {
    let allowance = allowed(&request.allow_hazards)?;
    let deadline::Session { mut tenant, turn: _turn } = deadline::connect(state, user, deadline).await?;
    let prepared = async {
        // Once more when the lock was taken without the foreign keys off its down scripts need.
        let mut prepared = prepare(state, caller, user, request, &allowance, &mut tenant).await?;
        if matches!(prepared, Prepared::Again) {
            tenant.roll_back().await;
            prepared = prepare(state, caller, user, request, &allowance, &mut tenant).await?;
        }
        Ok::<_, ApiError>(prepared)
    };
    let result = match tokio::time::timeout_at(deadline, prepared).await {
        Err(_) => {
            tenant.abandon().await;
            return Err(deadline::timed_out(state.config.request_timeout));
        }
        Ok(Err(error)) => Err(error),
        Ok(Ok(Prepared::Answer(answer))) => Ok(answer),
        Ok(Ok(Prepared::Again)) => Err(ApiError::Internal("the tenant's transaction could not be begun as rolling back needs".into())),
        Ok(Ok(Prepared::Commit { remaining, to, answer })) => match tenant.commit().await {
            Err(CommitFailed::ForeignKeys(violations)) => Err(ApiError::BadRequest {
                code: "apply-failed",
                message: format!("rolling back would leave foreign keys pointing nowhere: {violations}; nothing was changed"),
                details: Value::Null,
            }),
            Err(CommitFailed::Database(error)) => Err(ApiError::Database(format!("the database failed while committing: {error}"))),
            Ok(()) => {
                let schema_ts = schemaforge_codegen::drizzle::generate(&to).contents;
                artifacts::sync(state.store.as_ref(), state.backend.dialect(), user, &remaining, &schema_ts).await.map(|()| answer)
            }
        },
    };
    tenant.release().await;
    result
}

/// Everything up to the commit: the lock, the plan, the gate and the down
/// scripts in a transaction left open (rolled back on every error).
async fn prepare(
    state: &AppState,
    caller: &Caller,
    user: &UserId,
    request: &RollbackRequest,
    allowance: &[Hazard],
    tenant: &mut Session,
) -> Result<Prepared, ApiError> {
    let backend = &state.backend;
    tenant.lock().await?;
    let rows = tenant.versions().await?;
    let position = rows
        .iter()
        .position(|r| r.version.to_string() == request.to_version)
        .ok_or_else(|| ApiError::NotFound(format!("userID {} has no current version {}", user.as_str(), request.to_version)))?;
    let (Some(target), Some(latest)) = (rows.get(position), rows.last()) else {
        return Err(ApiError::Internal("the version list changed while it was read".into()));
    };
    if position + 1 == rows.len() {
        return Ok(Prepared::Answer(Json(json!({"userID": user.as_str(), "changed": false, "version": request.to_version}))));
    }
    let (from, to) = (schema_of(backend, user, latest)?, schema_of(backend, user, target)?);
    let plan = schemaforge_plan::plan(&from, &to).map_err(|e| ApiError::Internal(e.to_string()))?;
    let steps: Vec<schemaforge_diff::Step> = plan.steps().into_iter().cloned().collect();
    let facts = tenant.measure(&from, &to, &steps).await;
    if facts.iter().any(|f| f.blocks) {
        return Err(ApiError::Conflict {
            code: "cannot-succeed",
            message: "rolling back cannot succeed on the tenant's data; nothing was changed".into(),
            plan: plan.to_json(&facts),
        });
    }
    let refused: Vec<&str> = plan.hazards().into_iter().filter(|h| !allowance.contains(h)).map(|h| h.code()).collect();
    if !refused.is_empty() {
        return Err(ApiError::Conflict {
            code: "hazards-not-allowed",
            message: format!("rolling back carries hazards that were not allowed: {}; nothing was changed", refused.join(", ")),
            plan: plan.to_json(&facts),
        });
    }
    let later = &rows[position + 1..];
    let undone: Vec<String> = later.iter().rev().map(|r| r.version.to_string()).collect();
    let answer = json!({"userID": user.as_str(), "changed": true, "version": request.to_version, "rolledBack": undone, "plan": plan.to_json(&facts)});
    if request.dry_run {
        let mut answer = answer;
        answer["dryRun"] = json!(true);
        return Ok(Prepared::Answer(Json(answer)));
    }
    let scripts: Vec<(versions::VersionRow, Vec<String>)> =
        later.iter().rev().map(|row| (row.clone(), row.migration_file().down_statements().unwrap_or_default())).collect();
    let downs: Vec<Vec<String>> = scripts.iter().map(|(_, down)| down.clone()).collect();
    if !tenant.begin_apply(&downs).await? {
        return Ok(Prepared::Again);
    }
    let by = caller.label();
    for (row, down) in &scripts {
        tenant.undo(&row.migration_file(), down, &by).await.map_err(|error| ApiError::BadRequest {
            code: "apply-failed",
            message: format!("rolling back {} failed: {error}; nothing was changed", row.version),
            details: Value::Null,
        })?;
    }
    tenant.mark_rolled_back(&undone).await?;
    Ok(Prepared::Commit { remaining: rows[..=position].to_vec(), to: Box::new(to), answer: Json(answer) })
}

/// `GET /drift?userID=`: the tenant's schema compared with its latest version
/// (built apart and read back, so both are in the database's words).
pub async fn drift(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&query, &caller)?;
    let backend = &state.backend;
    let mut reader = backend.reader(&user).await?;
    let compared = async {
        let rows = reader.versions().await?;
        let expected = match rows.last() {
            Some(row) => schema_of(backend, &user, row)?,
            None => backend.baseline(&user),
        };
        let (live, target) = reader.compare(&expected).await?;
        Ok::<_, ApiError>((rows, live, target))
    }
    .await;
    reader.close().await;
    let (rows, live, target) = compared?;
    let plan = schemaforge_plan::plan(&live, &target).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({
        "userID": user.as_str(),
        "version": rows.last().map(|r| r.version.to_string()),
        "drift": !plan.is_empty(),
        "changes": plan.changes,
    })))
}
