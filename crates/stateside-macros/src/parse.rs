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
    let backend = field
        .attrs
        .iter()
        .find(|attr| attr.path().is_ident("backend"));
    let computed = field
        .attrs
        .iter()
        .find(|attr| attr.path().is_ident("computed"));
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
