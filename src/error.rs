//! [`error_enum!`]: how a module declares an error that is, for the most
//! part, one of the errors of the modules it calls.
//!
//! Most command errors wrap the errors of the steps they run and show each
//! as it is. With `thiserror` alone every such variant takes two lines,
//! `#[error(transparent)]` and `Name(#[from] Type)`, and the enums repeat
//! that pair over and over; here it is one line, `Name(Type)`. The macro
//! expands to a plain `#[derive(Debug, thiserror::Error)]` enum, so the
//! type, its variants and its messages are exactly what `thiserror` makes.

/// An error enum whose `Name(Type)` variants each wrap another error whole:
/// shown as that error is (`#[error(transparent)]`) and converted from it
/// by `?` (`#[from]`). Variants with a message of their own follow them,
/// written as `thiserror` takes them (each with its `#[error(...)]`). A
/// tuple variant's message names its field `{0}`, never `.0` in an
/// argument: the derive runs inside this macro, whose hygiene hides
/// thiserror's binding from an expression written by the caller (a path
/// field prints the same through `{0}`, by `Path::display`).
///
/// ```ignore
/// error_enum! {
///     /// Why `wpc token check` did not run.
///     pub enum TokenCheckError {
///         Issuer(IssuerError),
///         Read(ReadError),
///         #[error("the token names no policy")]
///         NoPolicy,
///     }
/// }
/// ```
macro_rules! error_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($wrap:ident($source:ty),)*
            $(#[$first:meta] $($own:tt)*)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, thiserror::Error)]
        $vis enum $name {
            $(
                #[error(transparent)]
                $wrap(#[from] $source),
            )*
            $(#[$first] $($own)*)?
        }
    };
}

pub(crate) use error_enum;
