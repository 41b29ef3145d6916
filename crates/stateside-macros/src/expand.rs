//! The code a [`Spec`] becomes: `impl State`, `Serialize`, `Deserialize`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::parse::{Field, Role, Spec};

pub fn expand(spec: &Spec) -> TokenStream {
    let state = state_impl(spec);
    let serialize = serialize_impl(spec);
    let deserialize = deserialize_impl(spec);
    quote! {
        const _: () = {
            #state
            #serialize
            #deserialize
        };
    }
}

fn shown(spec: &Spec) -> impl Iterator<Item = &Field> {
    spec.fields
        .iter()
        .filter(|field| !matches!(field.role, Role::Backend))
}

fn backend(spec: &Spec) -> impl Iterator<Item = &Field> {
    spec.fields
        .iter()
        .filter(|field| matches!(field.role, Role::Backend))
}

/// `self.f = function(&self.a, &self.b);` for each computed field, reading
/// from `from`.
fn recompute_all(spec: &Spec, from: &TokenStream) -> Vec<TokenStream> {
    spec.fields
        .iter()
        .filter_map(|field| match &field.role {
            Role::Computed { function, inputs } => {
                let ident = &field.ident;
                Some(quote! { #from.#ident = #function(#(&#from.#inputs),*); })
            }
            _ => None,
        })
        .collect()
}

fn state_impl(spec: &Spec) -> TokenStream {
    let Spec {
        ident, name, krate, ..
    } = spec;
    let private = quote!(#krate::__private);
    let probe = |field: &Field| {
        let ty = &field.ty;
        quote!((&&#private::Probe::<#ty>::new()).kind())
    };
    // Computed fields whose inputs changed are brought up to date first,
    // so their own change is published with their inputs'.
    let recompute = spec.fields.iter().filter_map(|field| {
        let Role::Computed { function, inputs } = &field.role else {
            return None;
        };
        let target = &field.ident;
        let changed = inputs.iter().map(|input| {
            let input_field = spec
                .fields
                .iter()
                .find(|field| field.ident == *input)
                .expect("inputs were checked");
            let kind = probe(input_field);
            quote!(#kind.changed(&self.#input, &before.#input)?)
        });
        Some(quote! {
            if #(#changed)||* {
                self.#target = #function(#(&self.#inputs),*);
            }
        })
    });
    let changes = shown(spec).map(|field| {
        let field_ident = &field.ident;
        let key = field_ident.to_string();
        let kind = probe(field);
        quote! {
            bytes += #private::field_overhead(#key)
                + #kind.changes(
                    &mut self.#field_ident,
                    &before.#field_ident,
                    &#private::field_path(path, #key),
                    ops,
                )?;
        }
    });
    let forget = backend(spec).map(|field| {
        let field_ident = &field.ident;
        let kind = probe(field);
        quote!(#kind.forget(&mut self.#field_ident);)
    });
    let backend_methods = backend_methods(spec);
    let client_items = client_items(spec);
    let shown_at_all = shown(spec).next().is_some();
    let recompute_restored = recompute_all(spec, &quote!(state));
    quote! {
        impl #krate::State for #ident {
            const NAME: &'static str = #name;
            const SHOWN: bool = #shown_at_all;

            #[allow(unused_imports)]
            fn changes(
                &mut self,
                before: &Self,
                path: &#krate::__private::Pointer,
                ops: &mut ::std::vec::Vec<#krate::PatchOperation>,
            ) -> #private::serde_json::Result<usize> {
                use #private::{ViaDiff as _, ViaJournal as _};
                #(#recompute)*
                // The braces of the object.
                let mut bytes = 2usize;
                #(#changes)*
                #(#forget)*
                Ok(bytes)
            }

            #backend_methods

            #client_items

            fn initial() -> Self {
                #[allow(unused_mut)]
                let mut state = <Self as ::std::default::Default>::default();
                #(#recompute_restored)*
                state
            }
        }
    }
}

/// `backend` and `restore`, which only a state with backend or computed
/// fields needs to override.
fn backend_methods(spec: &Spec) -> TokenStream {
    let krate = &spec.krate;
    let private = quote!(#krate::__private);
    let fields: Vec<_> = backend(spec).collect();
    let recompute = recompute_all(spec, &quote!(state));
    if fields.is_empty() && recompute.is_empty() {
        return TokenStream::new();
    }
    let keys: Vec<_> = fields.iter().map(|field| field.ident.to_string()).collect();
    let idents: Vec<_> = fields.iter().map(|field| &field.ident).collect();
    let backend = if fields.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            fn backend(&self) -> #private::serde_json::Result<::std::option::Option<#private::serde_json::Value>> {
                let mut fields = #private::serde_json::Map::new();
                #(fields.insert(#keys.into(), #private::serde_json::to_value(&self.#idents)?);)*
                Ok(Some(#private::serde_json::Value::Object(fields)))
            }
        }
    };
    quote! {
        #backend

        fn restore(
            shown: #private::serde_json::Value,
            backend: ::std::option::Option<#private::serde_json::Value>,
        ) -> #private::serde_json::Result<Self> {
            let mut state: Self = #private::serde_json::from_value(shown)?;
            #[allow(unused_mut, unused_variables)]
            if let Some(#private::serde_json::Value::Object(mut fields)) = backend {
                #(
                    if let Some(value) = fields.remove(#keys) {
                        state.#idents = #private::serde_json::from_value(value)?;
                    }
                )*
            }
            #(#recompute)*
            Ok(state)
        }
    }
}

/// `CLIENT_FIELDS` and `set_client_field`, for a state with `#[client]`
/// fields. A text that does not read returns before the assignment, so the
/// field keeps its value.
fn client_items(spec: &Spec) -> TokenStream {
    let krate = &spec.krate;
    let (mut declared, mut arms) = (Vec::new(), Vec::new());
    for field in &spec.fields {
        let Role::Client { place, key } = &field.role else {
            continue;
        };
        let ident = &field.ident;
        let name = ident.to_string();
        declared.push(quote! {
            #krate::ClientField { field: #name, place: #krate::Place::#place, key: #key }
        });
        arms.push(quote! {
            #name => {
                self.#ident = match text {
                    Some(text) => #krate::from_text(text)?,
                    None => <Self as ::std::default::Default>::default().#ident,
                };
            }
        });
    }
    if declared.is_empty() {
        return TokenStream::new();
    }
    quote! {
        const CLIENT_FIELDS: &'static [#krate::ClientField] = &[#(#declared),*];

        fn set_client_field(
            &mut self,
            field: &str,
            text: ::std::option::Option<&str>,
        ) -> ::std::result::Result<(), #krate::StoredTextError> {
            match field {
                #(#arms)*
                _ => return Err(#krate::StoredTextError::UnknownField(field.to_owned())),
            }
            Ok(())
        }
    }
}

fn serialize_impl(spec: &Spec) -> TokenStream {
    let Spec { ident, krate, .. } = spec;
    let serde = quote!(#krate::__private::serde);
    let fields: Vec<_> = shown(spec).collect();
    let count = fields.len();
    let keys = fields.iter().map(|field| field.ident.to_string());
    let idents = fields.iter().map(|field| &field.ident);
    let type_name = ident.to_string();
    quote! {
        impl #serde::Serialize for #ident {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                use #serde::ser::SerializeStruct as _;
                let mut out = serializer.serialize_struct(#type_name, #count)?;
                #(out.serialize_field(#keys, &self.#idents)?;)*
                out.end()
            }
        }
    }
}

fn deserialize_impl(spec: &Spec) -> TokenStream {
    let Spec { ident, krate, .. } = spec;
    let serde = quote!(#krate::__private::serde);
    let fields: Vec<_> = shown(spec).collect();
    let keys: Vec<_> = fields.iter().map(|field| field.ident.to_string()).collect();
    let idents = fields.iter().map(|field| &field.ident);
    let type_name = ident.to_string();
    let expecting = format!("the state {type_name} as a JSON object");
    quote! {
        impl<'de> #serde::Deserialize<'de> for #ident {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Fields;
                impl<'de> #serde::de::Visitor<'de> for Fields {
                    type Value = #ident;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(#expecting)
                    }

                    fn visit_map<A: #serde::de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<#ident, A::Error> {
                        let mut state = <#ident as ::std::default::Default>::default();
                        while let Some(key) = map.next_key::<::std::string::String>()? {
                            match key.as_str() {
                                #(#keys => state.#idents = map.next_value()?,)*
                                _ => {
                                    map.next_value::<#serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(state)
                    }
                }
                const FIELDS: &[&str] = &[#(#keys),*];
                deserializer.deserialize_struct(#type_name, FIELDS, Fields)
            }
        }
    }
}
