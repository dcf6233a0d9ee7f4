//! `auth_hmac` key values as vipd.toml and keepalived.conf both write them: `hex:<digits>` for
//! raw bytes, `file:<path>` for a file that holds one of the other two forms (a trailing line
//! end ignored), anything else the ASCII bytes themselves.
//!
//! A key file holds a secret, so it must be a regular file owned by root that nobody else can
//! read or write (mode 0600 or stricter); anything else is refused, naming the path and what is
//! wrong. keepalived only warns about group or other access; vipd refuses, since a key others
//! can read is no key.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::model::AuthKey;

/// Longest key file read: a 64-byte key in hex with its prefix is 132 bytes.
const MAX_FILE_LEN: u64 = 1024;

/// The key `value` with id `id`; the error says what is wrong, without the key.
pub fn parse(id: u8, value: &str) -> Result<AuthKey, String> {
    if let Some(path) = value.strip_prefix("file:") {
        let path = PathBuf::from(path);
        let material = read_file(&path)?;
        Ok(AuthKey {
            id,
            material,
            file: Some(path),
        })
    } else {
        Ok(AuthKey {
            id,
            material: decode_inline(value)?,
            file: None,
        })
    }
}

/// `hex:<digits>` or ASCII.
fn decode_inline(value: &str) -> Result<Vec<u8>, String> {
    let Some(digits) = value.strip_prefix("hex:") else {
        return Ok(value.as_bytes().to_vec());
    };
    if digits.len() % 2 != 0 {
        return Err(format!(
            "auth_hmac key has {} hex digits after `hex:`: expected an even number (two per byte)",
            digits.len()
        ));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            digits
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| {
                    "auth_hmac key after `hex:` holds a character that is not a hex digit"
                        .to_string()
                })
        })
        .collect()
}

/// The key in the file at `path`, once the file is shown to be root's alone.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let mut file =
        File::open(path).map_err(|e| format!("auth_hmac key file {shown} cannot be read: {e}"))?;
    // Checked on the open file, so the file checked is the file read.
    let meta = file
        .metadata()
        .map_err(|e| format!("auth_hmac key file {shown} cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err(format!("auth_hmac key file {shown} is not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if meta.uid() != 0 || mode & 0o077 != 0 {
        return Err(format!(
            "auth_hmac key file {shown} has mode {mode:04o} and owner uid {}: a key file must be owned by root with mode 0600 or stricter (chown root {shown}; chmod 600 {shown})",
            meta.uid()
        ));
    }
    if meta.len() > MAX_FILE_LEN {
        return Err(format!(
            "auth_hmac key file {shown} is {} bytes: a key file holds one key (at most {MAX_FILE_LEN} bytes)",
            meta.len()
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| format!("auth_hmac key file {shown} cannot be read as text: {e}"))?;
    let value = text.trim_end_matches(['\n', '\r']);
    if value.starts_with("file:") {
        return Err(format!(
            "auth_hmac key file {shown} names another file: it must hold the key itself"
        ));
    }
    decode_inline(value).map_err(|e| format!("{e} (in {shown})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn key_file(contents: &str, mode: u32) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(contents.as_bytes()).unwrap();
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        f
    }

    #[test]
    fn inline_values_are_hex_or_ascii() {
        assert_eq!(
            parse(1, "hex:00ff10").unwrap().material,
            vec![0, 0xff, 0x10]
        );
        assert_eq!(parse(1, "hex:00FF").unwrap().material, vec![0, 0xff]);
        assert_eq!(parse(1, "abc").unwrap().material, b"abc".to_vec());
        assert!(parse(1, "hex:0").unwrap_err().contains("even number"));
        assert!(parse(1, "hex:zz").unwrap_err().contains("not a hex digit"));
        assert!(parse(1, "hex:é0").is_err());
    }

    #[test]
    fn a_root_only_file_is_read_without_its_line_end() {
        // The tests run as root, so the file is root's.
        let f = key_file("hex:0102\n", 0o600);
        let key = parse(4, &format!("file:{}", f.path().display())).unwrap();
        assert_eq!(key.material, vec![1, 2]);
        assert_eq!(key.file.as_deref(), Some(f.path()));
        let f = key_file("ascii-key\r\n", 0o400);
        let key = parse(4, &format!("file:{}", f.path().display())).unwrap();
        assert_eq!(key.material, b"ascii-key".to_vec());
    }

    #[test]
    fn a_file_others_may_read_is_refused_with_its_path_and_mode() {
        let f = key_file("hex:0102", 0o640);
        let error = parse(1, &format!("file:{}", f.path().display())).unwrap_err();
        assert!(error.contains(&f.path().display().to_string()), "{error}");
        assert!(error.contains("mode 0640"), "{error}");
        assert!(!error.contains("0102"), "the key is not shown: {error}");
    }

    #[test]
    fn a_file_owned_by_another_user_is_refused() {
        let f = key_file("hex:0102", 0o600);
        nix::unistd::chown(f.path(), Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let error = parse(1, &format!("file:{}", f.path().display())).unwrap_err();
        assert!(error.contains("owner uid 65534"), "{error}");
    }

    #[test]
    fn a_directory_or_a_missing_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let error = parse(1, &format!("file:{}", dir.path().display())).unwrap_err();
        assert!(error.contains("not a regular file"), "{error}");
        let error = parse(1, "file:/nonexistent/vipd-key").unwrap_err();
        assert!(
            error.contains("/nonexistent/vipd-key cannot be read"),
            "{error}"
        );
    }
}
