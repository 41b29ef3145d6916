use stateside_wire::State;

fn total(items: &Vec<u32>) -> u32 {
    items.iter().sum()
}

#[derive(Clone, Default, State)]
struct Cart {
    items: Vec<u32>,
    #[computed(total(itemz))]
    total: u32,
}

fn main() {}
