//! Reading a struct and its attributes into a [`Spec`], with errors that
//! say what to write instead.

use syn::{Data, DeriveInput, Expr, ExprCall, Fields, Ident, LitStr, Path, Type, spanned::Spanned};

/// What the derive needs to know about one state.
pub struct Spec {
    pub ident: Ident,
    pub name: String,
    pub krate: Path,
    pub fields: Vec<Field>,
}

pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    pub role: Role,
}

pub enum Role {
    /// Sent to clients and stored.
    Plain,
    /// Stored, never sent.
    Backend,
    /// Sent, never stored: `function(inputs..)`.
    Computed {
        function: Box<Expr>,
        inputs: Vec<Ident>,
    },
    /// Sent and stored, and kept in the browser too: `place` is the
    /// variant of `Place`, `key` its key there.
    Client { place: Ident, key: String },
}

impl Spec {
    pub fn from_input(input: &DeriveInput) -> syn::Result<Self> {
        if !input.generics.params.is_empty() {
            return Err(syn::Error::new(
                input.generics.span(),
                "#[derive(State)] needs a struct without generic parameters; \
                 implement `stateside_wire::State` by hand for a generic one",
            ));
        }
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => &named.named,
                _ => {
                    return Err(syn::Error::new(
                        input.ident.span(),
                        "#[derive(State)] needs a struct with named fields: \
                         clients see a state as a JSON object, one key per field",
                    ));
                }
            },
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(State)] works on structs; wrap this type in a \
                     struct field to make it part of a state",
                ));
            }
        };
        let mut spec = Self {
            ident: input.ident.clone(),
            name: snake_case(&input.ident.to_string()),
            krate: syn::parse_quote!(::stateside_wire),
            fields: Vec::new(),
        };
        for attr in input
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("state"))
        {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    spec.name = meta.value()?.parse::<LitStr>()?.value();
                } else if meta.path.is_ident("crate") {
                    spec.krate = meta.value()?.parse::<LitStr>()?.parse()?;
                } else {
                    return Err(meta.error(
                        "unknown #[state] key: write #[state(name = \"…\")] or \
                         #[state(crate = \"path::to::stateside_wire\")]",
                    ));
                }
                Ok(())
            })?;
        }
        for field in named {
            let ident = field.ident.clone().expect("named fields have names");
            let role = role(field)?;
            spec.fields.push(Field {
                ident,
                ty: field.ty.clone(),
                role,
            });
        }
        spec.check_inputs()?;
        Ok(spec)
    }

    /// Every computed field reads fields that exist and are not computed.
    fn check_inputs(&self) -> syn::Result<()> {
        for field in &self.fields {
            let Role::Computed { inputs, .. } = &field.role else {
                continue;
            };
            for input in inputs {
                match self.fields.iter().find(|other| other.ident == *input) {
                    None => {
                        return Err(syn::Error::new(
                            input.span(),
                            format!(
                                "computed field `{}` reads `{input}`, which is not a field of `{}`",
                                field.ident, self.ident
                            ),
                        ));
                    }
                    Some(Field {
                        role: Role::Computed { .. },
                        ..
                    }) => {
                        return Err(syn::Error::new(
                            input.span(),
                            format!(
                                "computed field `{}` reads `{input}`, which is computed too: \
                                 give its function the fields `{input}` reads instead",
                                field.ident
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

fn role(field: &syn::Field) -> syn::Result<Role> {
    let find = |name: &str| field.attrs.iter().find(|attr| attr.path().is_ident(name));
    let (backend, computed) = (find("backend"), find("computed"));
    if let Some(client) = find("client") {
        if backend.is_some() || computed.is_some() {
            return Err(syn::Error::new(
                client.span(),
                "a #[client] field is sent to the browser to keep and read back: it \
                 cannot be #[backend] (never sent) or #[computed] (never read back)",
            ));
        }
        let ident = field.ident.as_ref().expect("named fields have names");
        return client_role(client, ident);
    }
    match (backend, computed) {
        (Some(attr), Some(_)) => Err(syn::Error::new(
            attr.span(),
            "a field is #[backend] (stored, never sent) or #[computed] (sent, never \
             stored), not both",
        )),
        (Some(attr), None) => {
            attr.meta.require_path_only()?;
            Ok(Role::Backend)
        }
        (None, Some(attr)) => {
            let call: ExprCall = attr.parse_args().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "write #[computed(function(field, field, ..))]: the function gets \
                     a reference to each field it names",
                )
            })?;
            let inputs = call
                .args
                .iter()
                .map(|arg| match arg {
                    Expr::Path(path) if path.path.get_ident().is_some() => {
                        Ok(path.path.get_ident().expect("checked").clone())
                    }
                    other => Err(syn::Error::new(
                        other.span(),
                        "a computed field's function takes field names only, \
                         e.g. #[computed(total(items, discount))]",
                    )),
                })
                .collect::<syn::Result<Vec<_>>>()?;
            Ok(Role::Computed {
                function: call.func,
                inputs,
            })
        }
        (None, None) => Ok(Role::Plain),
    }
}

/// `#[client(local = "key")]`, `session`, `cookie`; the key defaults to the
/// field's name.
fn client_role(attr: &syn::Attribute, field: &Ident) -> syn::Result<Role> {
    const USAGE: &str = "write #[client(local)], #[client(session)] or #[client(cookie)], \
                         with `= \"key\"` for a key other than the field's name";
    let mut found = None;
    attr.parse_nested_meta(|meta| {
        let place = ["local", "session", "cookie"]
            .into_iter()
            .find(|place| meta.path.is_ident(place))
            .ok_or_else(|| meta.error(USAGE))?;
        if found.is_some() {
            return Err(meta.error("a #[client] field lives in one place: name one"));
        }
        let key = if meta.input.peek(syn::Token![=]) {
            meta.value()?.parse::<LitStr>()?
        } else {
            LitStr::new(&field.to_string(), field.span())
        };
        found = Some((place, key));
        Ok(())
    })?;
    let (place, key) = found.ok_or_else(|| syn::Error::new(attr.span(), USAGE))?;
    let value = key.value();
    if value.is_empty() {
        return Err(syn::Error::new(
            key.span(),
            "a #[client] key cannot be empty",
        ));
    }
    if place == "cookie" && !value.bytes().all(is_cookie_name_byte) {
        return Err(syn::Error::new(
            key.span(),
            "a cookie's name is letters, digits and !#$%&'*+-.^_`|~ only (RFC 6265)",
        ));
    }
    let variant = match place {
        "local" => "Local",
        "session" => "Session",
        _ => "Cookie",
    };
    Ok(Role::Client {
        place: Ident::new(variant, attr.span()),
        key: value,
    })
}

/// A byte of an RFC 6265 cookie name (an RFC 7230 token).
fn is_cookie_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// `RandomShared` → `random_shared`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (index, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if index > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
