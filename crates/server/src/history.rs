//! A tenant's migration history (`GET /migrations`), going back to an earlier
//! version (`POST /rollback`), and whether its schema still is what its latest
//! version says (`GET /drift`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use schemaforge_db::postgres::migrate::{self, History};
use schemaforge_model::Schema;
use schemaforge_plan::Hazard;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::generate::{allowed, parse_body, schema_of};
use crate::state::AppState;
use crate::tenant::{self, UserId};
use crate::versions;
use crate::{artifacts, deadline};

fn user_of(query: &HashMap<String, String>, caller: &Caller) -> Result<UserId, ApiError> {
    let id = query.get("userID").ok_or_else(|| ApiError::bad_request("invalid-request", "the `userID` query parameter is required"))?;
    let user = UserId::parse(id)?;
    caller.may_act_for(&user)?;
    Ok(user)
}

/// `GET /migrations?userID=`: every migration the tenant's schema has seen.
pub async fn migrations(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let user = user_of(&query, &caller)?;
    state.provision(&user).await?;
    let mut conn = state.connect_tenant(&user).await?;
    let namespace = user.namespace();
    let history = History::in_schema(&namespace);
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(history.ours()).fetch_one(&mut conn).await?;
    let mut migrations = Vec::new();
    if exists {
        versions::ensure_table(&mut conn, &namespace).await?;
        let sql = format!(
            "SELECT m.name, m.status, m.checksum, m.applied_by, m.duration_ms, m.error,
                    to_char(m.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS started_at,
                    to_char(m.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS finished_at,
                    (SELECT v.version FROM {ns}.\"__schemaforge_versions\" v WHERE v.tag = m.name ORDER BY v.created_at DESC LIMIT 1) AS version
             FROM {} m ORDER BY m.name",
            history.ours(),
            ns = schemaforge_sql::postgres::quote_ident(&namespace)
        );
        for row in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await? {
            migrations.push(json!({
                "name": row.try_get::<String, _>("name")?,
                "version": row.try_get::<Option<String>, _>("version")?,
                "status": row.try_get::<String, _>("status")?,
                "checksum": row.try_get::<String, _>("checksum")?,
                "startedAt": row.try_get::<Option<String>, _>("started_at")?,
                "finishedAt": row.try_get::<Option<String>, _>("finished_at")?,
                "appliedBy": row.try_get::<String, _>("applied_by")?,
                "durationMs": row.try_get::<Option<i64>, _>("duration_ms")?,
                "error": row.try_get::<Option<String>, _>("error")?,
            }));
        }
    }
    let _ = conn.close().await;
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
}

async fn locked_rollback(
    state: &AppState,
    caller: &Caller,
    user: &UserId,
    request: &RollbackRequest,
    deadline: tokio::time::Instant,
) -> Result<Json<Value>, ApiError> {
    let allowance = allowed(&request.allow_hazards)?;
    let deadline::Session { mut conn, pid, turn: _turn } = deadline::connect(state, user, deadline).await?;
    let history = History::in_schema(&user.namespace());
    let result = match tokio::time::timeout_at(deadline, prepare(caller, user, request, &allowance, &mut conn, &history)).await {
        Err(_) => {
            deadline::abandon(state, user, conn, pid).await;
            return Err(deadline::timed_out(state.config.request_timeout));
        }
        Ok(Err(error)) => Err(error),
        Ok(Ok(Prepared::Answer(answer))) => Ok(answer),
        Ok(Ok(Prepared::Commit { remaining, to, answer })) => {
            async {
                sqlx::raw_sql("COMMIT").execute(&mut conn).await?;
                let schema_ts = schemaforge_codegen::drizzle::generate(&to).contents;
                artifacts::sync(state.store.as_ref(), user, &remaining, &schema_ts).await?;
                Ok(answer)
            }
            .await
        }
    };
    let _ = migrate::unlock(&mut conn, &history).await;
    let _ = conn.close().await;
    result
}

/// Everything up to the commit: the lock, the plan, the gate and the down
/// scripts in a transaction left open (rolled back on every error).
async fn prepare(
    caller: &Caller,
    user: &UserId,
    request: &RollbackRequest,
    allowance: &[Hazard],
    conn: &mut PgConnection,
    history: &History,
) -> Result<Prepared, ApiError> {
    let namespace = user.namespace();
    migrate::lock(conn, history).await?;
    versions::ensure_table(conn, &namespace).await?;
    let rows = versions::current(conn, &namespace).await?;
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
    let (from, to) = (schema_of(latest, &namespace)?, schema_of(target, &namespace)?);
    let plan = schemaforge_plan::plan(&from, &to).map_err(|e| ApiError::Internal(e.to_string()))?;
    let steps: Vec<schemaforge_diff::Step> = plan.steps().into_iter().cloned().collect();
    let facts = schemaforge_db::postgres::probes::measure(conn, &from, &to, &steps).await;
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
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
    let undo = async {
        for row in later.iter().rev() {
            let file = row.migration_file();
            let down = file.down_statements().unwrap_or_default();
            migrate::roll_back_within(conn, history, &file, &down, &caller.label()).await.map_err(|error| ApiError::BadRequest {
                code: "apply-failed",
                message: format!("rolling back {} failed: {error}; nothing was changed", row.version),
                details: Value::Null,
            })?;
        }
        versions::mark_rolled_back(conn, &namespace, &undone).await?;
        Ok::<_, ApiError>(())
    };
    if let Err(error) = undo.await {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
        return Err(error);
    }
    Ok(Prepared::Commit { remaining: rows[..=position].to_vec(), to: Box::new(to), answer: Json(answer) })
}

/// `GET /drift?userID=`: the tenant's schema compared with its latest version
/// (built apart and read back, so both are in the server's words).
pub async fn drift(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    use schemaforge_db::postgres::{IntrospectOptions, build_shadow, declared_view, introspect};
    let user = user_of(&query, &caller)?;
    state.provision(&user).await?;
    let namespace = user.namespace();
    let mut conn = state.connect_tenant(&user).await?;
    versions::ensure_table(&mut conn, &namespace).await?;
    let rows = versions::current(&mut conn, &namespace).await?;
    let expected = match rows.last() {
        Some(row) => schema_of(row, &namespace)?,
        None => tenant::baseline(&namespace),
    };
    let read = introspect(&mut conn, &IntrospectOptions { schemas: vec![namespace.clone()], roles: Vec::new() })
        .await
        .map_err(|e| ApiError::Database(e.to_string()))?;
    let _ = conn.close().await;
    let live = declared_view(read.schema, &expected);
    let target = build_shadow(&state.config.database_url, &expected).await.map_err(|e| ApiError::Database(e.to_string()))?;
    let plan = schemaforge_plan::plan(&live, &target.schema).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({
        "userID": user.as_str(),
        "version": rows.last().map(|r| r.version.to_string()),
        "drift": !plan.is_empty(),
        "changes": plan.changes,
    })))
}
