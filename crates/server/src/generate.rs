//! `POST /schema/generate`: validate → plan against the tenant's latest
//! version → hazard gate → apply with the new version's record in one
//! transaction → artifacts → response.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use schemaforge_db::history::MigrateError;
use schemaforge_kit::folder::{MigrationFile, snapshot_id, snapshot_path};
use schemaforge_model::{Dialect, Schema};
use schemaforge_plan::{Hazard, Plan, Version};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::backend::{Backend, CommitFailed, Failed, Session};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant::{self, UserId};
use crate::versions::{Recent, VersionRow};
use crate::{artifacts, deadline};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateRequest {
    #[serde(rename = "userID")]
    user_id: String,
    schema: Value,
    #[serde(default)]
    options: GenerateOptions,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GenerateOptions {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    allow_hazards: Vec<String>,
    name: Option<String>,
    message: Option<String>,
}

/// Reads a JSON request body, refusing it with a 400 that says where it is wrong.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request("invalid-request", format!("the request body is not valid: {e}")))
}

/// Hazards a tenant's migration may carry without asking: the operational
/// ones (a lock, an index build, a scan, a statement that fails and rolls
/// back cleanly). What changes or loses data, or who may see it, must be
/// allowed by name.
const ALLOWED_BY_DEFAULT: [Hazard; 5] =
    [Hazard::RewritesTable, Hazard::AccessExclusiveLock, Hazard::BuildsIndex, Hazard::ValidationScan, Hazard::MayFailOnExistingData];

/// Hazards that may run: the operational ones, plus those named (`all` allows every one).
pub fn allowed(codes: &[String]) -> Result<Vec<Hazard>, ApiError> {
    let mut allowed = ALLOWED_BY_DEFAULT.to_vec();
    for code in codes {
        if code == "all" {
            return Ok(Hazard::ALL.to_vec());
        }
        let hazard = Hazard::from_code(code).ok_or_else(|| {
            let known: Vec<&str> = Hazard::ALL.iter().map(|h| h.code()).collect();
            ApiError::bad_request("invalid-request", format!("allowHazards: unknown hazard `{code}`; known: all, {}", known.join(", ")))
        })?;
        allowed.push(hazard);
    }
    Ok(allowed)
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

/// The definition a version holds, as the tenant wrote it, lowered for
/// `dialect` (empty before the first).
pub fn unmapped(dialect: Dialect, row: Option<&VersionRow>) -> Result<Schema, ApiError> {
    match row {
        Some(row) => schemaforge_spec::parse_definition_for(&row.definition, Some(dialect))
            .map_err(|_| ApiError::Internal(format!("the stored definition of version {} no longer validates", row.version))),
        None => Ok(Schema::empty(dialect)),
    }
}

/// The schema a version holds, as the database holds it (`Backend::place`).
pub fn schema_of(backend: &Backend, user: &UserId, row: &VersionRow) -> Result<Schema, ApiError> {
    Ok(backend.place(user, &unmapped(backend.dialect(), Some(row))?))
}

/// The 400 for a definition with problems, each pointed at under `/schema`.
pub fn invalid(diagnostics: &[schemaforge_spec::Diagnostic]) -> ApiError {
    let details: Vec<Value> = diagnostics
        .iter()
        .map(|d| json!({"path": format!("/schema{}", d.path), "code": d.code.as_str(), "message": d.message, "hint": d.hint}))
        .collect();
    ApiError::BadRequest {
        code: "invalid-definition",
        message: format!("the definition has {} problem(s)", details.len()),
        details: Value::Array(details),
    }
}

pub async fn handle(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    let deadline = tokio::time::Instant::now() + state.config.request_timeout;
    deadline::detached(generate(state, caller, body, deadline)).await
}

async fn generate(state: AppState, caller: Caller, body: Bytes, deadline: tokio::time::Instant) -> Result<Json<Value>, ApiError> {
    let started = Instant::now();
    let request: GenerateRequest = parse_body(&body)?;
    let user = UserId::parse(&request.user_id)?;
    caller.may_act_for(&user)?;
    let result = validated(&state, &caller, &user, &request, started, deadline).await;
    let (outcome, version) = match &result {
        Ok(Json(value)) => (
            if value["changed"] == true { if value["dryRun"] == true { "dry-run" } else { "applied" } } else { "unchanged" },
            value["version"].as_str().map(String::from),
        ),
        Err(ApiError::BadRequest { .. }) => ("invalid", None),
        Err(ApiError::Conflict { .. }) => ("refused", None),
        Err(ApiError::Timeout(_)) => ("timed out", None),
        Err(_) => ("failed", None),
    };
    let line = json!({
        "at": now_millis(),
        "userID": user.as_str(),
        "caller": caller.label(),
        "request": "generate",
        "result": outcome,
        "version": version,
        "error": result.as_ref().err().map(ToString::to_string),
        "ms": millis(started),
    });
    // The log is a record, not the outcome: its failure does not undo a version.
    let _ = artifacts::log(&state, &user, &line).await;
    result
}

async fn validated(
    state: &AppState,
    caller: &Caller,
    user: &UserId,
    request: &GenerateRequest,
    started: Instant,
    deadline: tokio::time::Instant,
) -> Result<Json<Value>, ApiError> {
    tenant::check_definition(&request.schema)?;
    let known = state.lowered.fragments(user);
    let (validated, fragments) = schemaforge_spec::validate_value_known(&request.schema, Some(state.backend.dialect()), known);
    let definition = Arc::new(validated.map_err(|d| invalid(&d))?);
    if let Some(name) = &request.options.name {
        schemaforge_kit::folder::check_name(name).map_err(|e| ApiError::bad_request("invalid-request", e.to_string()))?;
    }
    let allowance = allowed(&request.options.allow_hazards)?;
    let validate_ms = millis(started);
    let deadline::Session { mut tenant, turn: _turn } = deadline::connect(state, user, deadline).await?;
    let input = Input { state, caller, user, request, definition: &definition, fragments: &fragments, allowance: &allowance };
    // Up to the commit under the deadline; after it, to the end.
    let result = match tokio::time::timeout_at(deadline, prepare_until_ready(&input, &mut tenant, (started, validate_ms))).await {
        Err(_) => {
            tenant.abandon().await;
            return Err(deadline::timed_out(state.config.request_timeout));
        }
        Ok(Err(error)) => Err(error),
        Ok(Ok(Prepared::Answer(answer))) => Ok(answer),
        Ok(Ok(Prepared::Again)) => Err(ApiError::Internal("the tenant's transaction could not be begun as its migration needs".into())),
        Ok(Ok(Prepared::Commit(pending))) => finish(&input, &mut tenant, *pending).await,
    };
    tenant.release().await;
    result
}

/// What a request is about.
struct Input<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    user: &'a UserId,
    request: &'a GenerateRequest,
    definition: &'a Arc<Schema>,
    /// The SQL fragments checked validating it (kept with it in `lowered`).
    fragments: &'a schemaforge_spec::Fragments,
    allowance: &'a [Hazard],
}

/// Where a request stands at its commit point.
enum Prepared {
    /// Nothing to commit: the answer (unchanged, or a dry run).
    Answer(Json<Value>),
    /// The migration and its version are applied in the open transaction.
    Commit(Box<Pending>),
    /// The tenant's lock was taken in a way the migration cannot run under
    /// (see `Session::begin_apply`): release it and start over.
    Again,
}

/// A new version applied in the open transaction, waiting for its commit.
struct Pending {
    row: VersionRow,
    /// The current versions before it.
    recent: Recent,
    next: Schema,
    plan: Value,
    timings: Timings,
}

struct Timings {
    started: Instant,
    validate_ms: u64,
    plan_ms: u64,
    apply_started: Instant,
}

/// `prepare`, started over (once is enough: the lock is then taken as the
/// migration needs it) when the lock was taken the wrong way.
async fn prepare_until_ready(input: &Input<'_>, tenant: &mut Session, times: (Instant, u64)) -> Result<Prepared, ApiError> {
    let mut prepared = prepare(input, tenant, times).await?;
    for _ in 0..3 {
        if !matches!(prepared, Prepared::Again) {
            break;
        }
        tenant.roll_back().await;
        prepared = prepare(input, tenant, times).await?;
    }
    Ok(prepared)
}

/// Takes the tenant's lock, plans, gates, and applies the migration with its
/// version record in a transaction it leaves open: everything up to the
/// commit point, so everything the deadline may cut off. On every error the
/// transaction is rolled back (by `Session::release` at the latest).
async fn prepare(input: &Input<'_>, tenant: &mut Session, (started, validate_ms): (Instant, u64)) -> Result<Prepared, ApiError> {
    let Input { state, caller, user, request, definition, allowance, .. } = *input;
    let backend = &state.backend;
    tenant.lock().await?;
    let recent = tenant.recent().await?;
    let latest = recent.latest.as_ref();
    // The stored definition is validated once, for both plans below, and
    // not at all when this replica made the latest version (`lowered`).
    let stored = match latest {
        Some(row) => match state.lowered.get(user, &row.tag, &row.definition) {
            Some(schema) => schema,
            None => Arc::new(unmapped(backend.dialect(), Some(row))?),
        },
        None => Arc::new(unmapped(backend.dialect(), None)?),
    };
    let previous = match latest {
        Some(_) => backend.place(user, &stored),
        None => backend.baseline(user),
    };
    let next = backend.place(user, definition);
    let plan_started = Instant::now();
    let plan = schemaforge_plan::plan(&previous, &next).map_err(|e| ApiError::Internal(e.to_string()))?;
    if plan.is_empty() {
        if latest.is_some() {
            let schema_ts = schemaforge_codegen::drizzle::generate(&previous).contents;
            write_artifacts(state, tenant, user, &recent, None, &schema_ts).await?;
        }
        let version = latest.map(|r| r.version.to_string());
        return Ok(Prepared::Answer(Json(json!({"userID": user.as_str(), "changed": false, "version": version}))));
    }
    let steps: Vec<schemaforge_diff::Step> = plan.steps().into_iter().cloned().collect();
    let facts = tenant.measure(&previous, &next, &steps).await;
    let plan_ms = millis(plan_started);
    let blocking: Vec<&str> = facts.iter().filter(|f| f.blocks).map(|f| f.message.as_str()).collect();
    if !blocking.is_empty() {
        return Err(ApiError::Conflict {
            code: "cannot-succeed",
            message: format!("the plan cannot succeed on the tenant's data: {}; nothing was applied", blocking.join("; ")),
            plan: plan.to_json(&facts),
        });
    }
    let refused: Vec<&str> = plan.hazards().into_iter().filter(|h| !allowance.contains(h)).map(Hazard::code).collect();
    if !refused.is_empty() {
        return Err(ApiError::Conflict {
            code: "hazards-not-allowed",
            message: format!(
                "the plan carries hazards that were not allowed: {}; nothing was applied. Review the plan, then send options.allowHazards",
                refused.join(", ")
            ),
            plan: plan.to_json(&facts),
        });
    }
    let version = latest.map_or(Version::FIRST, |r| r.version.bumped(schemaforge_plan::bump_of(&plan, &previous, &next)));
    // Described in the tenant's own terms, without its namespace.
    let described = schemaforge_plan::plan(&stored, definition).map_err(|e| ApiError::Internal(e.to_string()))?;
    let changelog = schemaforge_plan::changelog(version, request.options.message.as_deref(), &described);
    if request.options.dry_run {
        return Ok(Prepared::Answer(Json(json!({
            "userID": user.as_str(),
            "changed": true,
            "dryRun": true,
            "version": version.to_string(),
            "previousVersion": latest.map(|r| r.version.to_string()),
            "changelog": changelog,
            "migration": plan.to_json(&facts),
        }))));
    }

    let row = new_version(&previous, &next, (&plan, &described), &recent, version, request, caller, changelog)?;
    let apply_started = Instant::now();
    let file = row.migration_file();
    if !tenant.begin_apply(&[file.statements()]).await? {
        return Ok(Prepared::Again);
    }
    if let Err(error) = tenant.apply(&file, &caller.label()).await {
        return Err(apply_failed(input, tenant, &file, apply_started, error).await);
    }
    if let Err(error) = tenant.insert_version(&row).await {
        tenant.roll_back().await;
        state.metrics.migration_failed();
        return Err(error);
    }
    let timings = Timings { started, validate_ms, plan_ms, apply_started };
    Ok(Prepared::Commit(Box::new(Pending { row, recent, next, plan: plan.to_json(&facts), timings })))
}

/// Rolls back a migration the database refused or failed on, records the
/// failure in the tenant's history (outside the transaction that took the
/// migration's own record with it), and says what happened.
async fn apply_failed(input: &Input<'_>, tenant: &mut Session, file: &MigrationFile, started: Instant, error: MigrateError) -> ApiError {
    let Input { state, caller, .. } = *input;
    // A statement the database refused leaves the connection usable; a
    // connection that cannot even roll back is the database failing.
    let alive = tenant.roll_back().await;
    state.metrics.migration_failed();
    let message = match &error {
        MigrateError::Failed { error, .. } => error.clone(),
        other => other.to_string(),
    };
    // The history is a record: failing to write it does not change the answer.
    let by = caller.label();
    tenant.record_failure(&Failed { file, by: &by, started, error: &message }, alive).await;
    match error {
        MigrateError::Failed { number, total, error, .. } if !alive => ApiError::Database(format!(
            "the database failed during statement {number} of {total}: {error}; nothing was applied and the tenant stays at its previous version; retry"
        )),
        MigrateError::Failed { number, total, statement, error, .. } => ApiError::BadRequest {
            code: "apply-failed",
            message: format!(
                "statement {number} of {total} failed: {error}; nothing was applied and the tenant stays at its previous version"
            ),
            details: json!({"statement": statement}),
        },
        other => ApiError::Database(format!("{other}; nothing was applied and the tenant stays at its previous version")),
    }
}

/// Commits, then writes the artifacts and answers. Not under the deadline:
/// from the commit on, the version exists and the client is told so.
async fn finish(input: &Input<'_>, tenant: &mut Session, pending: Pending) -> Result<Json<Value>, ApiError> {
    let Input { state, user, caller, .. } = *input;
    let backend = &state.backend;
    let Pending { row, recent, next, plan, timings } = pending;
    match tenant.commit().await {
        Ok(()) => {}
        Err(CommitFailed::ForeignKeys(violations)) => {
            // SQLite refused to commit a migration that leaves keys dangling: it was rolled back.
            state.metrics.migration_failed();
            let file = row.migration_file();
            let error = format!("the migration would leave foreign keys pointing nowhere: {violations}");
            let by = caller.label();
            tenant.record_failure(&Failed { file: &file, by: &by, started: timings.apply_started, error: &error }, true).await;
            return Err(ApiError::BadRequest {
                code: "apply-failed",
                message: format!("{error}; nothing was applied and the tenant stays at its previous version"),
                details: Value::Null,
            });
        }
        // A connection lost during COMMIT leaves the outcome unknown: ask.
        Err(CommitFailed::Database(error)) if !backend.committed(user, &row.tag).await => {
            state.metrics.migration_failed();
            return Err(ApiError::Database(format!(
                "the database failed while committing: {error}; nothing was applied and the tenant stays at its previous version; retry"
            )));
        }
        Err(CommitFailed::Database(_)) => {}
    }
    state.metrics.migration_applied();
    state.lowered.put(user, &row.tag, &row.definition, Arc::clone(input.definition), input.fragments.clone());
    let apply_ms = millis(timings.apply_started);
    let version = row.version;
    let artifacts_started = Instant::now();
    let schema_ts = schemaforge_codegen::drizzle::generate(&next).contents;
    write_artifacts(state, tenant, user, &recent, Some(&row), &schema_ts).await.map_err(|e| {
        ApiError::Internal(format!(
            "version {version} was applied and recorded, but writing its artifacts failed ({e}); the next request rewrites them"
        ))
    })?;
    Ok(Json(json!({
        "userID": user.as_str(),
        "changed": true,
        "version": version.to_string(),
        "previousVersion": recent.latest.as_ref().map(|r| r.version.to_string()),
        "bump": row.bump,
        "changelog": row.changelog,
        "migration": {"name": row.tag, "plan": plan},
        "schemaTs": schema_ts,
        "artifacts": artifacts::locations(user, &version.to_string()),
        "timings": {
            "validateMs": timings.validate_ms,
            "planMs": timings.plan_ms,
            "applyMs": apply_ms,
            "artifactsMs": millis(artifacts_started),
            "totalMs": millis(timings.started),
        },
    })))
}

/// Brings the tenant's folder up to its current versions: `recent` and, when
/// this request made one, `new` after them. The folder is extended by the
/// new version alone when the store holds the folder of the versions
/// before (`artifacts::extend`); otherwise every version is read back whole
/// and the folder rewritten from them (`artifacts::sync`), which repairs
/// what an earlier request failed to write after its commit.
async fn write_artifacts(
    state: &AppState,
    tenant: &mut Session,
    user: &UserId,
    recent: &Recent,
    new: Option<&VersionRow>,
    schema_ts: &str,
) -> Result<(), ApiError> {
    let (store, dialect) = (state.store.as_ref(), state.backend.dialect());
    let mut entries = recent.entries.clone();
    entries.extend(new.map(VersionRow::entry));
    let new: &[VersionRow] = new.map_or(&[], std::slice::from_ref);
    match artifacts::extend(store, dialect, user, &entries, new, schema_ts).await? {
        artifacts::Extended::Done => Ok(()),
        artifacts::Extended::Repair => {
            let rows = tenant.versions().await?;
            artifacts::sync(store, dialect, user, &rows, schema_ts).await
        }
    }
}

/// The record of a new version: its migration files, made by the same code
/// as `schemaforge generate`, chained to the versions before it.
#[allow(clippy::too_many_arguments)]
fn new_version(
    previous: &Schema,
    next: &Schema,
    (plan, described): (&Plan, &Plan),
    recent: &Recent,
    version: Version,
    request: &GenerateRequest,
    caller: &Caller,
    changelog: String,
) -> Result<VersionRow, ApiError> {
    let latest = recent.latest.as_ref();
    let internal = |e: &dyn std::fmt::Display| ApiError::Internal(e.to_string());
    let down = schemaforge_plan::plan_down(previous, next).map_err(|e| internal(&e))?;
    let name = match (&request.options.name, latest.is_none()) {
        (Some(name), _) => name.clone(),
        (None, true) => "init".to_string(),
        (None, false) => schemaforge_plan::migration_name(&described.steps().into_iter().cloned().collect::<Vec<_>>()),
    };
    let folder_definition = schemaforge_spec::emit::to_json(next);
    let journal = artifacts::journal(next.dialect, &recent.entries);
    let previous_folder = latest.map(|r| schemaforge_kit::Previous { journal: &journal, snapshot_id: &r.snapshot_id });
    let (up_statements, down_statements) = (plan.file_statements(), down.file_statements());
    let new = schemaforge_kit::NewMigration { schema: next, up: &up_statements, down: &down_statements, definition: &folder_definition };
    let migration = schemaforge_kit::Migration { name: &name, when_millis: now_millis(), breakpoints: true };
    let files = schemaforge_kit::next_migration(previous_folder, &new, &migration).map_err(|e| internal(&e))?;
    let idx = latest.map_or(0, |r| r.idx + 1);
    let tag = format!("{idx:04}_{name}");
    let file = |path: &str| {
        files.iter().find(|f| f.path == path).map(|f| f.contents.clone()).ok_or_else(|| internal(&format!("{path} was not generated")))
    };
    let snapshot = file(&snapshot_path(idx))?;
    let when_millis = schemaforge_kit::Journal::parse(&file("meta/_journal.json")?)
        .ok()
        .and_then(|j| j.entries.last().map(|e| e.when))
        .unwrap_or_else(now_millis);
    Ok(VersionRow {
        version,
        created_at: String::new(),
        bump: if latest.is_none() { "initial".into() } else { schemaforge_plan::bump_of(plan, previous, next).as_str().into() },
        message: request.options.message.clone(),
        definition: request.schema.to_string(),
        changelog,
        snapshot_id: snapshot_id(&snapshot).map_err(|e| internal(&e))?,
        snapshot,
        up_sql: file(&format!("{tag}.sql"))?,
        down_sql: file(&format!("{tag}.down.sql"))?,
        folder_definition,
        tag,
        idx,
        when_millis,
        hazards: plan.hazards().into_iter().map(|h| h.code().to_string()).collect(),
        statements: i32::try_from(plan.statements.len()).unwrap_or(i32::MAX),
        applied_by: caller.label(),
    })
}
