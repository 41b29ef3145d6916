use stateside_wire::State;

#[derive(Clone, Default, State)]
struct Prefs {
    #[client(cookie = "my theme")]
    theme: String,
}

#[derive(Clone, Default, State)]
struct Secret {
    #[backend]
    #[client(local)]
    token: String,
}

#[derive(Clone, Default, State)]
struct Nowhere {
    #[client(disk = "x")]
    value: String,
}

fn main() {}
