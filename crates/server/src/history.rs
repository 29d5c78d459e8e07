//! A tenant's migration history (`GET /migrations`), going back to an earlier
//! version (`POST /rollback`), and whether its schema still is what its latest
//! version says (`GET /drift`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use schemaforge_db::postgres::migrate::{self, History};
use schemaforge_kit::folder::MigrationFile;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::artifacts;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::generate::{allowed, parse_body, schema_of};
use crate::state::AppState;
use crate::tenant::{self, UserId};
use crate::versions;

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
/// transaction, gated like a generate.
pub async fn rollback(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    let request: RollbackRequest = parse_body(&body)?;
    let user = UserId::parse(&request.user_id)?;
    caller.may_act_for(&user)?;
    let allowance = allowed(&request.allow_hazards)?;
    let turn = state.turn(&user).await;
    state.provision(&user).await?;
    let mut conn = state.connect_tenant(&user).await?;
    let namespace = user.namespace();
    let history = History::in_schema(&namespace);
    migrate::lock(&mut conn, &history).await?;
    let result = async {
        versions::ensure_table(&mut conn, &namespace).await?;
        let rows = versions::current(&mut conn, &namespace).await?;
        let position = rows.iter().position(|r| r.version.to_string() == request.to_version).ok_or_else(|| {
            ApiError::NotFound(format!("userID {} has no current version {}", user.as_str(), request.to_version))
        })?;
        if position + 1 == rows.len() {
            return Ok(Json(json!({"userID": user.as_str(), "changed": false, "version": request.to_version})));
        }
        let (target, latest) = (&rows[position], &rows[rows.len() - 1]);
        let (from, to) = (schema_of(latest, &namespace)?, schema_of(target, &namespace)?);
        let plan = schemaforge_plan::plan(&from, &to).map_err(|e| ApiError::Internal(e.to_string()))?;
        let steps: Vec<schemaforge_diff::Step> = plan.steps().into_iter().cloned().collect();
        let facts = schemaforge_db::postgres::probes::measure(&mut conn, &from, &to, &steps).await;
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
        let undone: Vec<String> = rows[position + 1..].iter().rev().map(|r| r.version.to_string()).collect();
        if request.dry_run {
            return Ok(Json(json!({"userID": user.as_str(), "changed": true, "dryRun": true, "version": request.to_version, "rolledBack": undone, "plan": plan.to_json(&facts)})));
        }
        let mut tx = conn.begin().await?;
        for row in rows[position + 1..].iter().rev() {
            let file = MigrationFile {
                idx: row.idx,
                tag: row.tag.clone(),
                when: row.when_millis,
                breakpoints: true,
                sql: row.up_sql.clone(),
                down: Some(row.down_sql.clone()),
            };
            let down = file.down_statements().unwrap_or_default();
            if let Err(error) = migrate::roll_back_within(&mut tx, &history, &file, &down, &caller.label()).await {
                let _ = tx.rollback().await;
                return Err(ApiError::BadRequest {
                    code: "apply-failed",
                    message: format!("rolling back {} failed: {error}; nothing was changed", row.version),
                    details: Value::Null,
                });
            }
        }
        versions::mark_rolled_back(&mut tx, &namespace, &undone).await?;
        tx.commit().await?;
        let remaining = &rows[..=position];
        let schema_ts = schemaforge_codegen::drizzle::generate(&to).contents;
        artifacts::sync(state.store.as_ref(), &user, remaining, &schema_ts).await?;
        Ok(Json(json!({"userID": user.as_str(), "changed": true, "version": request.to_version, "rolledBack": undone, "plan": plan.to_json(&facts)})))
    }
    .await;
    let _ = migrate::unlock(&mut conn, &history).await;
    let _ = conn.close().await;
    drop(turn);
    let line = json!({"userID": user.as_str(), "caller": caller.label(), "request": "rollback", "toVersion": request.to_version, "error": result.as_ref().err().map(ToString::to_string)});
    let _ = artifacts::log(&state, &user, &line).await;
    result
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
