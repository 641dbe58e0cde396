//! `wpc serve --export DIR`: the registry as static files, for a host with
//! no process running (GitHub Pages, S3). Written to a temporary folder
//! beside DIR, then renamed into place, so DIR is never half written.
//!
//! A static host cannot answer 410, so a revoked hash has no file: the host
//! answers 404 and the gateway fails closed with `WPC_NOT_FOUND`;
//! `v1/releases` lists the revocation.

use std::path::{Path, PathBuf};

use super::state::{ReleaseState, is_policy_hash};
use super::store::BodyError;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0} exists and is not an earlier export (no `health` file); choose an empty or new folder"
    )]
    NotAnExport(PathBuf),
    #[error("{0} is a symbolic link; export to a real folder")]
    Link(PathBuf),
    #[error(transparent)]
    Refused(#[from] BodyError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// `v1/wpc/<hash>` files.
    pub documents: usize,
}

/// Write `state` as `health`, `v1/releases` and `v1/wpc/<hash>` under `dir`,
/// replacing an earlier export there.
pub fn export(state: &ReleaseState, dir: &Path) -> Result<Exported, ExportError> {
    let existing = match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => return Err(ExportError::Link(dir.into())),
        Ok(meta) if !meta.is_dir() => return Err(ExportError::NotAnExport(dir.into())),
        Ok(_) => {
            let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
            if !empty && !dir.join("health").is_file() {
                return Err(ExportError::NotAnExport(dir.into()));
            }
            true
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => false,
        Err(err) => return Err(io(dir)(err)),
    };
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let staging = tempfile::Builder::new()
        .prefix(".wpc-export-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let root = staging.path();
    let wpc = root.join("v1/wpc");
    std::fs::create_dir_all(&wpc).map_err(io(&wpc))?;
    let write = |path: PathBuf, bytes: &[u8]| std::fs::write(&path, bytes).map_err(io(&path));
    write(root.join("health"), &state.health(None))?;
    write(root.join("v1/releases"), &state.releases)?;
    let mut documents = 0;
    for rendering in state.renderings() {
        // The hash names a file: only the 43-character alphabet gets here.
        if is_policy_hash(rendering.hash()) {
            write(wpc.join(rendering.hash()), &state.read_body(rendering)?)?;
            documents += 1;
        }
    }
    make_readable(root)?;
    let staged = staging.keep();
    if existing {
        let old = tempfile::Builder::new()
            .prefix(".wpc-export-old-")
            .tempdir_in(parent)
            .map_err(io(parent))?
            .keep();
        let previous = old.join("previous");
        std::fs::rename(dir, &previous).map_err(io(dir))?;
        if let Err(err) = std::fs::rename(&staged, dir) {
            // Put the earlier export back rather than leave none.
            let _ = std::fs::rename(&previous, dir);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io(dir)(err));
        }
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    } else {
        std::fs::rename(&staged, dir).map_err(io(dir))?;
    }
    Ok(Exported { documents })
}

/// A temporary folder is private to its owner; a static file server
/// running as another user must be able to read the export.
#[cfg(unix)]
fn make_readable(root: &Path) -> Result<(), ExportError> {
    use std::os::unix::fs::PermissionsExt as _;
    for dir in [root.to_path_buf(), root.join("v1"), root.join("v1/wpc")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).map_err(io(&dir))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_readable(_root: &Path) -> Result<(), ExportError> {
    Ok(())
}
