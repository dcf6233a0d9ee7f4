//! The control protocol's messages, shared by the server and `vipd status`.
//!
//! One JSON object per line (UTF-8, `\n`-terminated) in each direction; a connection may carry
//! any number of request/response pairs, answered in order. Version [`PROTOCOL_VERSION`]:
//!
//! ```text
//! -> {"version":1,"cmd":"status"}          "version" may be left out (it means 1)
//! <- {"version":1,"status":{...}}          a control::status::Snapshot
//! <- {"version":1,"error":"..."}           for a refused or unreadable request
//! ```
//!
//! Fields are only ever added within a version; readers ignore fields they do not know. A
//! request of a newer version than the server speaks is answered with an error naming the
//! version it does speak. A line longer than [`MAX_REQUEST_LEN`] ends the connection.

use serde::{Deserialize, Serialize};

use super::status::Snapshot;

pub const PROTOCOL_VERSION: u32 = 1;

/// Requests are tiny; the bound keeps a confused client from growing the server's memory.
pub const MAX_REQUEST_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    #[serde(default = "first_version")]
    pub version: u32,
    #[serde(flatten)]
    pub command: Command,
}

fn first_version() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// The whole status snapshot.
    Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub version: u32,
    #[serde(flatten)]
    pub body: ResponseBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseBody {
    Status(Box<Snapshot>),
    Error(String),
}

impl Response {
    pub fn error(message: impl Into<String>) -> Response {
        Response {
            version: PROTOCOL_VERSION,
            body: ResponseBody::Error(message.into()),
        }
    }

    /// The response as one protocol line, newline included.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_else(|e| {
            // Serialising plain data cannot fail; if it ever did, the client still gets a line.
            serde_json::to_vec(&Response::error(format!("encoding the response: {e}")))
                .unwrap_or_default()
        });
        line.push(b'\n');
        line
    }
}

impl Request {
    pub fn status() -> Request {
        Request {
            version: PROTOCOL_VERSION,
            command: Command::Status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_version_is_version_one() {
        let request: Request = serde_json::from_str(r#"{"cmd":"status"}"#).unwrap();
        assert_eq!(request, Request::status());
        assert_eq!(
            serde_json::to_string(&Request::status()).unwrap(),
            r#"{"version":1,"cmd":"status"}"#
        );
    }

    #[test]
    fn unknown_commands_do_not_parse() {
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"reboot"}"#).is_err());
    }

    #[test]
    fn an_error_response_is_one_line() {
        let line = Response::error("no").to_line();
        assert_eq!(line, b"{\"version\":1,\"error\":\"no\"}\n");
        let back: Response = serde_json::from_slice(&line).unwrap();
        assert_eq!(back, Response::error("no"));
    }
}
