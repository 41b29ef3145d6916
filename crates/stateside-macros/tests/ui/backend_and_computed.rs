use stateside_wire::State;

fn double(count: &u32) -> u32 {
    count * 2
}

#[derive(Clone, Default, State)]
struct Counter {
    count: u32,
    #[backend]
    #[computed(double(count))]
    doubled: u32,
}

fn main() {}
