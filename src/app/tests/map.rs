
#[test]
fn debug_tree() {
    let (h, _r, _dir) = on_map();
    let s = format!("{:#?}", h.root());
    for (i, l) in s.lines().enumerate() {
        if l.contains("by annotation") || l.contains("colour") {
            println!("{i}: {l}");
        }
    }
}
