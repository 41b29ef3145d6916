use stateside_wire::State;

#[derive(Clone, Default, State)]
struct Count(u32);

fn main() {}
