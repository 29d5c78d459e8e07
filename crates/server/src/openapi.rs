//! Every route with its documentation, in one table: the router is built from
//! it and `GET /openapi.json` is generated from it, so the two cannot differ.

use axum::routing::{MethodRouter, get, post};
use serde_json::{Map, Value, json};

use crate::state::AppState;
use crate::{generate, history, routes};

/// One route: how it is served and how it is described.
pub struct Endpoint {
    pub method: &'static str,
    /// axum's path syntax (`/schema/{version}`), which is also OpenAPI's.
    pub path: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    /// Needs `Authorization: Bearer <token>`. The operational routes
    /// (health, readiness, metrics, this document) do not: probes and
    /// scrapers call them without one, and they reveal nothing of a tenant.
    pub auth: bool,
    /// The handler keeps the request timeout itself, up to its commit, and is
    /// never cut off after it (routes that change a tenant). Other routes are
    /// dropped at the timeout and answered 408.
    pub keeps_own_deadline: bool,
    /// Query parameters: name, required, description.
    pub query: &'static [(&'static str, bool, &'static str)],
    /// The JSON request body's schema.
    pub body: Option<fn() -> Value>,
    /// Status codes and what they mean.
    pub responses: &'static [(u16, &'static str)],
    pub handler: fn() -> MethodRouter<AppState>,
}

const USER: (&str, bool, &str) = ("userID", true, "The tenant: `^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$`.");
const ERRORS: [(u16, &str); 3] = [
    (400, "Bad input; `error.details` points at each problem"),
    (401, "No or unknown bearer token"),
    (403, "The token may not act for this userID"),
];

fn generate_body() -> Value {
    json!({
        "type": "object",
        "required": ["userID", "schema"],
        "additionalProperties": false,
        "properties": {
            "userID": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$"},
            "schema": {"$ref": "#/components/schemas/Definition"},
            "options": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "dryRun": {"type": "boolean", "description": "Return the plan; change nothing."},
                    "allowHazards": {"type": "array", "items": {"type": "string"}, "description": "Hazard codes that may run, or `all`."},
                    "name": {"type": "string", "description": "Migration name (`NNNN_<name>.sql`)."},
                    "message": {"type": "string", "description": "Goes into the changelog."}
                }
            }
        }
    })
}

fn token_body() -> Value {
    json!({"type": "object", "required": ["userID"], "additionalProperties": false, "properties": {"userID": {"type": "string"}}})
}

fn rollback_body() -> Value {
    json!({
        "type": "object",
        "required": ["userID", "toVersion"],
        "additionalProperties": false,
        "properties": {
            "userID": {"type": "string"},
            "toVersion": {"type": "string", "description": "A current version, e.g. `1.1.0`."},
            "allowHazards": {"type": "array", "items": {"type": "string"}},
            "dryRun": {"type": "boolean"}
        }
    })
}

/// Every route the service answers.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: "get",
            path: "/healthz",
            summary: "Liveness",
            description: "Answers while the process runs.",
            auth: false,
            keeps_own_deadline: false,
            query: &[],
            body: None,
            responses: &[(200, "Alive")],
            handler: || get(routes::healthz),
        },
        Endpoint {
            method: "get",
            path: "/readyz",
            summary: "Readiness",
            description: "Answers 200 when the database (PostgreSQL, or the SQLite default's `service.sqlite`) answers and the service's tables are set up.",
            auth: false,
            keeps_own_deadline: false,
            query: &[],
            body: None,
            responses: &[(200, "Ready"), (503, "The database is not reachable")],
            handler: || get(routes::readyz),
        },
        Endpoint {
            method: "get",
            path: "/metrics",
            summary: "Prometheus metrics",
            description: "Requests by route template, method and status; latency histograms per route; tenant migrations applied and failed. Public, like health: scrapers call it without a token, and it names no tenant.",
            auth: false,
            keeps_own_deadline: false,
            query: &[],
            body: None,
            responses: &[(200, "Metrics in the Prometheus text format")],
            handler: || get(routes::metrics),
        },
        Endpoint {
            method: "get",
            path: "/openapi.json",
            summary: "This document",
            description: "The OpenAPI 3.1 description of every route, generated from the route table.",
            auth: false,
            keeps_own_deadline: false,
            query: &[],
            body: None,
            responses: &[(200, "The document")],
            handler: || get(routes::openapi),
        },
        Endpoint {
            method: "post",
            path: "/tokens",
            summary: "Issue a user token (admin)",
            description: "A new bearer token that may act for one userID only.",
            auth: true,
            keeps_own_deadline: false,
            query: &[],
            body: Some(token_body),
            responses: &[(200, "`{\"userID\", \"token\"}`"), (400, "Bad input"), (403, "Not the admin token")],
            handler: || post(routes::issue_token),
        },
        Endpoint {
            method: "post",
            path: "/schema/generate",
            summary: "Apply a definition to a tenant",
            description: "Validate, plan against the latest version, gate hazards, apply with the new version in one transaction, write artifacts.",
            auth: true,
            keeps_own_deadline: true,
            query: &[],
            body: Some(generate_body),
            responses: &[
                (200, "The new version (or `changed: false`), migration, changelog, schema.ts, artifacts and timings"),
                (400, "Invalid definition or request; nothing written or applied"),
                (401, "No or unknown bearer token"),
                (403, "The token may not act for this userID"),
                (409, "A hazard was not allowed or the plan cannot succeed; `plan` says why; nothing applied"),
                (503, "The database failed; the tenant is at its previous version"),
            ],
            handler: || post(generate::handle),
        },
        Endpoint {
            method: "get",
            path: "/versions",
            summary: "A tenant's versions",
            description: "Every current version, oldest first.",
            auth: true,
            keeps_own_deadline: false,
            query: &[USER],
            body: None,
            responses: &ERRORS,
            handler: || get(routes::list_versions),
        },
        Endpoint {
            method: "get",
            path: "/schema/{version}",
            summary: "One version's definition",
            description: "The definition as sent, its changelog and migration; `latest` for the newest.",
            auth: true,
            keeps_own_deadline: false,
            query: &[USER],
            body: None,
            responses: &[(200, "The version"), (404, "No such version")],
            handler: || get(routes::schema_version),
        },
        Endpoint {
            method: "get",
            path: "/client/{version}/{language}",
            summary: "A client for a version",
            description: "`drizzle`, `typescript` or `zod` source; with `format=tar` an installable npm package.",
            auth: true,
            keeps_own_deadline: false,
            query: &[USER, ("format", false, "`source` (default) or `tar`")],
            body: None,
            responses: &[(200, "The source, or a .tgz"), (404, "No such version or language")],
            handler: || get(routes::client),
        },
        Endpoint {
            method: "get",
            path: "/migrations",
            summary: "A tenant's migration history",
            description: "Name, version, status, checksum, times, who applied it, duration, error.",
            auth: true,
            keeps_own_deadline: false,
            query: &[USER],
            body: None,
            responses: &ERRORS,
            handler: || get(history::migrations),
        },
        Endpoint {
            method: "post",
            path: "/rollback",
            summary: "Go back to an earlier version",
            description: "Runs the down scripts of every later version in one transaction, gated like a generate.",
            auth: true,
            keeps_own_deadline: true,
            query: &[],
            body: Some(rollback_body),
            responses: &[(200, "Rolled back (or `changed: false`)"), (404, "No such version"), (409, "A hazard was not allowed")],
            handler: || post(history::rollback),
        },
        Endpoint {
            method: "get",
            path: "/drift",
            summary: "Has the tenant's schema drifted?",
            description: "The tenant's database compared with its latest version built apart (in a temporary PostgreSQL database, or in memory on SQLite), both read back alike.",
            auth: true,
            keeps_own_deadline: false,
            query: &[USER],
            body: None,
            responses: &ERRORS,
            handler: || get(history::drift),
        },
    ]
}

/// The OpenAPI 3.1 document of `endpoints()`.
pub fn document() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let mut paths = Map::new();
    for endpoint in endpoints() {
        let mut responses = Map::new();
        let mut documented: Vec<(u16, &str)> = endpoint.responses.to_vec();
        if endpoint.auth && !documented.iter().any(|(status, _)| *status == 401) {
            documented.push((401, "No or unknown bearer token"));
        }
        documented.push((408, "The request took longer than the configured timeout; nothing was changed"));
        for (status, description) in &documented {
            let content = if *status >= 400 { json!({"application/json": {"schema": error}}) } else { json!({}) };
            responses.insert(status.to_string(), json!({"description": description, "content": content}));
        }
        let mut parameters: Vec<Value> = endpoint
            .query
            .iter()
            .map(|(name, required, description)| json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}}))
            .collect();
        for segment in endpoint.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
            parameters.push(json!({"name": segment, "in": "path", "required": true, "schema": {"type": "string"}}));
        }
        let mut operation = json!({
            "summary": endpoint.summary,
            "description": endpoint.description,
            "parameters": parameters,
            "responses": responses,
        });
        // The document requires the bearer token everywhere; the public
        // routes say they need none.
        if !endpoint.auth {
            operation["security"] = json!([]);
        }
        if let Some(body) = endpoint.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": body()}}});
        }
        let item = paths.entry(endpoint.path.to_string()).or_insert_with(|| json!({}));
        item[endpoint.method] = operation;
    }
    // The definition's JSON Schema, its `$defs` hoisted into the components
    // (JSON Schema 2020-12 is OpenAPI 3.1's schema dialect).
    let mut definition = schemaforge_spec::json_schema().clone();
    let mut schemas = Map::new();
    if let Some(object) = definition.as_object_mut() {
        object.remove("$schema");
        object.remove("$id");
        if let Some(Value::Object(defs)) = object.remove("$defs") {
            schemas.extend(defs);
        }
    }
    schemas.insert("Definition".into(), definition);
    let schemas: Value =
        serde_json::from_str(&Value::Object(schemas).to_string().replace("#/$defs/", "#/components/schemas/")).unwrap_or_default();
    let mut schemas = match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "details": {}
            }}, "plan": {}}
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "schemaforge", "version": env!("CARGO_PKG_VERSION"), "description": "Schema definitions in; versions, migrations, artifacts and clients out, for many isolated tenants."},
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        }
    })
}
