//! Who may talk to the server: the token (a 0600 file under
//! `SCOPECRAFT_HOME`), sent as `Authorization: Bearer`, or as the cookie the
//! page gets from its `?token=` address; a `Host` of our own address only
//! (a page on another name that resolves to 127.0.0.1, DNS rebinding, is
//! refused); and for WebSockets and requests that change something, no
//! `Origin` but ours.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Server;
use super::api::ApiError;

const TOKEN_FILE: &str = "serve.token";

/// The server's token: read from `<home>/serve.token`, made (mode 0600)
/// when missing. A token file others can read is made private again.
pub fn token(home: &Path) -> Result<String> {
    let path = home.join(TOKEN_FILE);
    fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    if let Ok(text) = fs::read_to_string(&path) {
        let token = text.trim().to_string();
        if token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit()) {
            let mode = fs::metadata(&path)?.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private", path.display()))?;
            }
            return Ok(token);
        }
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let _ = fs::remove_file(&path);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{token}").with_context(|| format!("writing {}", path.display()))?;
    Ok(token)
}

/// The cookie's name: per port, so two servers do not overwrite each
/// other's (cookies do not tell ports apart).
pub fn cookie_name(port: u16) -> String {
    format!("scopecraft-{port}")
}

/// Checks every request before it reaches a handler.
pub async fn check(State(server): State<Arc<Server>>, request: Request, next: Next) -> Response {
    if let Err(refusal) = allowed(&server, &request) {
        return refusal.into_response();
    }
    // The page's address carries the token once: it becomes a cookie and
    // the address loses it (out of the history and of Referer headers).
    if request.uri().path() == "/" && query_token(&request).is_some() {
        let project = request.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix("project="))
                .map(str::to_string)
        });
        let location = match project {
            Some(project) => format!("/?project={project}"),
            None => "/".to_string(),
        };
        return (
            StatusCode::SEE_OTHER,
            [
                (
                    header::SET_COOKIE,
                    format!(
                        "{}={}; HttpOnly; SameSite=Strict; Path=/",
                        cookie_name(server.port),
                        server.token
                    ),
                ),
                (header::LOCATION, location),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
        )
            .into_response();
    }
    next.run(request).await
}

fn allowed(server: &Server, request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    let ours = [
        format!("127.0.0.1:{}", server.port),
        format!("localhost:{}", server.port),
    ];
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !ours.iter().any(|o| o == host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "refused: this server answers to 127.0.0.1:{0} and localhost:{0} only, not to Host {host:?}",
                server.port
            ),
        ));
    }
    let presented = bearer(headers)
        .or_else(|| cookie(headers, &cookie_name(server.port)))
        .or_else(|| {
            (request.uri().path() == "/")
                .then(|| query_token(request))
                .flatten()
        });
    match presented {
        Some(token) if same(&token, &server.token) => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong token: use the address `scopecraft-tmux serve` printed, or the token in $SCOPECRAFT_HOME/serve.token",
            ));
        }
        None => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a token is needed: open the address `scopecraft-tmux serve` printed, or send `Authorization: Bearer <token>` ($SCOPECRAFT_HOME/serve.token)",
            ));
        }
    }
    if changes_state(request) {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or_default();
            if !ours.iter().any(|o| origin == format!("http://{o}")) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("refused: a request from another origin ({origin:?})"),
                ));
            }
        }
        if headers
            .get("sec-fetch-site")
            .is_some_and(|site| site == "cross-site" || site == "same-site")
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "refused: a request from another site",
            ));
        }
    }
    Ok(())
}

/// A WebSocket, a method other than GET and HEAD, or `GET /stop/…`.
fn changes_state(request: &Request) -> bool {
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|u| u.as_bytes().eq_ignore_ascii_case(b"websocket"));
    upgrade
        || !matches!(*request.method(), Method::GET | Method::HEAD)
        || request.uri().path().starts_with("/stop/")
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_string())
        })
}

fn query_token(request: &Request) -> Option<String> {
    request
        .uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_string)
}

/// Compares in time that does not depend on where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_is_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = token(dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        let path = dir.path().join(TOKEN_FILE);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(token(dir.path()).unwrap(), first);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
