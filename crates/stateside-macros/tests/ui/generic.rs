use stateside_wire::State;

#[derive(Clone, Default, State)]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
