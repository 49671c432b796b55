//! Item images decoded off the UI thread into a bounded, least-recently-used cache of
//! textures. Requests are served newest first: while the user scrolls, the rows on screen
//! now matter more than the rows that flew past.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use egui::{Color32, ColorImage, TextureHandle, TextureOptions};

/// Cache key: item index and the longest side in pixels.
type Key = (usize, u32);

/// What the cache can say about an image.
pub enum Thumb<'a> {
    Loading,
    Ready(&'a TextureHandle),
    /// Missing or unreadable file: one sentence.
    Broken(&'a str),
}

enum Entry {
    Loading,
    Ready(TextureHandle),
    Broken(String),
}

struct Slot {
    entry: Entry,
    last_used: u64,
}

struct Request {
    generation: u64,
    key: Key,
    path: PathBuf,
}

struct Decoded {
    generation: u64,
    key: Key,
    image: Result<ColorImage, String>,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Request>,
    done: Vec<Decoded>,
    shutdown: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Images given as URLs are downloaded here first (by the decoder threads).
    urls: crate::app::grid::url_fetch::Fetcher,
    wake: Condvar,
    /// Set on the first frame; the decoders wake the UI through it.
    ctx: Mutex<Option<egui::Context>>,
}

pub struct Thumbnails {
    slots: HashMap<Key, Slot>,
    capacity: usize,
    frame: u64,
    /// Bumped when the dataset changes so that late results of the old one are dropped.
    generation: u64,
    shared: Arc<Shared>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

/// Requests beyond this are dropped oldest first (they scrolled out of view long ago).
const MAX_PENDING: usize = 256;
/// Textures uploaded per frame, so that a burst of decodes never stalls a frame.
const UPLOADS_PER_FRAME: usize = 12;

impl Thumbnails {
    pub fn new(capacity: usize, threads: usize) -> Thumbnails {
        Thumbnails::with_fetcher(
            capacity,
            threads,
            crate::app::grid::url_fetch::Fetcher::new(
                crate::app::grid::url_fetch::Fetcher::default_cache_dir(),
            ),
        )
    }

    /// `new`, downloading URL images with `urls` (tests point it at a private cache).
    pub fn with_fetcher(
        capacity: usize,
        threads: usize,
        urls: crate::app::grid::url_fetch::Fetcher,
    ) -> Thumbnails {
        let shared = Arc::new(Shared {
            urls,
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            ctx: Mutex::new(None),
        });
        let workers = (0..threads.max(1))
            .map(|n| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("thumbnail decoder {n}"))
                    .spawn(move || decode_loop(&shared))
                    .expect("the OS refused to start a thumbnail thread")
            })
            .collect();
        Thumbnails {
            slots: HashMap::new(),
            capacity: capacity.max(16),
            frame: 0,
            generation: 0,
            shared,
            workers,
        }
    }

    /// Forget every image (a new dataset was opened).
    pub fn clear(&mut self) {
        self.generation += 1;
        self.slots.clear();
        self.shared.queue.lock().unwrap().pending.clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Decoded textures in the cache.
    #[cfg(test)]
    pub fn ready(&self) -> usize {
        self.slots
            .values()
            .filter(|s| matches!(s.entry, Entry::Ready(_)))
            .count()
    }

    /// Image downloads that succeeded and that failed so far.
    pub fn url_counts(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering;
        (
            self.shared.urls.fetched.load(Ordering::Relaxed),
            self.shared.urls.failures.load(Ordering::Relaxed),
        )
    }

    /// Call once per frame before drawing: uploads finished decodes and evicts old textures.
    pub fn begin_frame(&mut self, ctx: &egui::Context) {
        self.frame += 1;
        if self.frame == 1 {
            *self.shared.ctx.lock().unwrap() = Some(ctx.clone());
        }
        let done: Vec<Decoded> = {
            let mut q = self.shared.queue.lock().unwrap();
            let take = q.done.len().min(UPLOADS_PER_FRAME);
            q.done.drain(..take).collect()
        };
        let more_waiting = !self.shared.queue.lock().unwrap().done.is_empty();
        for d in done {
            if d.generation != self.generation {
                continue;
            }
            // The slot may have been evicted meanwhile; then nobody wants the image any more.
            if let Some(slot) = self.slots.get_mut(&d.key) {
                slot.entry = match d.image {
                    Ok(img) => Entry::Ready(ctx.load_texture(
                        format!("item {} @{}", d.key.0, d.key.1),
                        img,
                        TextureOptions::LINEAR,
                    )),
                    Err(e) => Entry::Broken(e),
                };
            }
        }
        if more_waiting {
            ctx.request_repaint();
        }
        self.evict();
    }

    fn evict(&mut self) {
        if self.slots.len() <= self.capacity {
            return;
        }
        // Drop down to 90 % in one go so that eviction is not paid every frame.
        let mut ages: Vec<(u64, Key)> = self.slots.iter().map(|(k, s)| (s.last_used, *k)).collect();
        ages.sort_unstable();
        let excess = self.slots.len() - self.capacity * 9 / 10;
        for (last_used, key) in ages.into_iter().take(excess) {
            if last_used == self.frame {
                break; // on screen now; never evict what is being drawn
            }
            self.slots.remove(&key);
        }
    }

    /// The image of `item` at `size` px, queueing a decode on first sight.
    pub fn get(&mut self, item: usize, path: Option<&Path>, size: u32) -> Thumb<'_> {
        let key = (item, size);
        let frame = self.frame;
        if !self.slots.contains_key(&key) {
            let entry = match path {
                None => Entry::Broken("this item has no image".into()),
                Some(path) => {
                    let mut q = self.shared.queue.lock().unwrap();
                    q.pending.push_back(Request {
                        generation: self.generation,
                        key,
                        path: path.to_path_buf(),
                    });
                    while q.pending.len() > MAX_PENDING {
                        // Forget the oldest; its row is long gone. It will be asked again
                        // if it comes back into view.
                        if let Some(old) = q.pending.pop_front() {
                            self.slots.remove(&old.key);
                        }
                    }
                    self.shared.wake.notify_one();
                    Entry::Loading
                }
            };
            self.slots.insert(
                key,
                Slot {
                    entry,
                    last_used: frame,
                },
            );
        }
        let slot = self.slots.get_mut(&key).expect("inserted above");
        slot.last_used = frame;
        match &slot.entry {
            Entry::Loading => Thumb::Loading,
            Entry::Ready(t) => Thumb::Ready(t),
            Entry::Broken(e) => Thumb::Broken(e),
        }
    }

    /// Draw the image of `item` fitted into `size` points (square), with a placeholder while
    /// loading and a red mark when the file is missing or unreadable.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        item: usize,
        path: Option<&Path>,
        side: f32,
    ) -> egui::Response {
        let px = (side * ui.ctx().pixels_per_point()).round().max(8.0) as u32;
        let (rect, response) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
        match self.get(item, path, px) {
            Thumb::Ready(tex) => {
                let size = tex.size_vec2();
                let scale = (side / size.x).min(side / size.y);
                let r = egui::Rect::from_center_size(rect.center(), size * scale);
                ui.painter().image(
                    tex.id(),
                    r,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
                response
            }
            Thumb::Loading => {
                ui.painter()
                    .rect_filled(rect.shrink(2.0), 3.0, ui.visuals().faint_bg_color);
                response
            }
            Thumb::Broken(why) => {
                let why = why.to_string();
                let p = ui.painter();
                p.rect_stroke(
                    rect.shrink(3.0),
                    3.0,
                    egui::Stroke::new(1.5, ui.visuals().error_fg_color),
                    egui::StrokeKind::Inside,
                );
                p.text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    "×",
                    egui::FontId::proportional((side * 0.4).max(10.0)),
                    ui.visuals().error_fg_color,
                );
                response.on_hover_text(why)
            }
        }
    }
}

impl Drop for Thumbnails {
    fn drop(&mut self) {
        self.shared.queue.lock().unwrap().shutdown = true;
        self.shared.wake.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn decode_loop(shared: &Shared) {
    loop {
        let request = {
            let mut q = shared.queue.lock().unwrap();
            loop {
                if q.shutdown {
                    return;
                }
                // Newest first: the rows on screen now.
                if let Some(r) = q.pending.pop_back() {
                    break r;
                }
                q = shared.wake.wait(q).unwrap();
            }
        };
        let image = match request
            .path
            .to_str()
            .filter(|p| crate::app::grid::url_fetch::is_url(p))
        {
            Some(url) => shared
                .urls
                .local_file(url)
                .and_then(|file| decode(&file, request.key.1).map_err(|e| format!("{url}: {e}"))),
            None => decode(&request.path, request.key.1),
        };
        let mut q = shared.queue.lock().unwrap();
        q.done.push(Decoded {
            generation: request.generation,
            key: request.key,
            image,
        });
        drop(q);
        if let Some(ctx) = &*shared.ctx.lock().unwrap() {
            ctx.request_repaint();
        }
    }
}

/// Decode and shrink to at most `size` px on the longer side.
pub fn decode(path: &Path, size: u32) -> Result<ColorImage, String> {
    let reader = image::ImageReader::open(path)
        .map_err(|e| format!("{}: cannot open the image ({e})", path.display()))?
        .with_guessed_format()
        .map_err(|e| format!("{}: cannot read the image ({e})", path.display()))?;
    let img = reader
        .decode()
        .map_err(|e| format!("{}: not a readable image ({e})", path.display()))?;
    let small = if img.width() > size || img.height() > size {
        img.thumbnail(size, size)
    } else {
        img
    };
    let rgba = small.to_rgba8();
    Ok(ColorImage::from_rgba_unmultiplied(
        [rgba.width() as usize, rgba.height() as usize],
        rgba.as_raw(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_reported_with_its_path() {
        let err = decode(Path::new("/nonexistent/x.png"), 32).unwrap_err();
        assert!(err.contains("/nonexistent/x.png"), "{err}");
    }

    #[test]
    fn decoded_images_fit_the_requested_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        image::RgbImage::from_pixel(200, 100, image::Rgb([10, 20, 30]))
            .save(&path)
            .unwrap();
        let img = decode(&path, 40).unwrap();
        assert_eq!(img.size, [40, 20]);
    }

    #[test]
    fn cache_stays_bounded_and_serves_decoded_images() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]))
            .save(&path)
            .unwrap();
        let ctx = egui::Context::default();
        let mut t = Thumbnails::new(16, 1);
        for frame in 0..40 {
            t.begin_frame(&ctx);
            t.get(frame, Some(&path), 8);
        }
        assert!(t.len() <= 17, "cache holds {} entries", t.len());
        // The newest request gets decoded and uploaded.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            t.begin_frame(&ctx);
            if matches!(t.get(39, Some(&path), 8), Thumb::Ready(_)) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "thumbnail never arrived"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn url_images_are_fetched_off_the_ui_thread_with_a_placeholder_meanwhile() {
        use std::io::{Read, Write};
        // A real PNG served slowly by a server on 127.0.0.1, and a path that fails.
        let mut png = Vec::new();
        image::RgbImage::from_pixel(4, 4, image::Rgb([9, 9, 9]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { continue };
                let png = png.clone();
                std::thread::spawn(move || {
                    // The whole request head before answering: closing on unread input
                    // resets the connection, and the client may then never see the answer.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let request = String::from_utf8_lossy(&head).to_string();
                    std::thread::sleep(std::time::Duration::from_millis(150));
                    if request.starts_with("GET /a.png") {
                        let _ = write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                            png.len()
                        );
                        let _ = s.write_all(&png);
                    } else {
                        let _ = s.write_all(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
                    }
                });
            }
        });
        let cache = tempfile::tempdir().unwrap();
        let mut t = Thumbnails::with_fetcher(
            16,
            2,
            crate::app::grid::url_fetch::Fetcher::new(cache.path().to_path_buf()),
        );
        let ctx = egui::Context::default();
        let good = PathBuf::from(format!("{base}/a.png"));
        let bad = PathBuf::from(format!("{base}/b.png"));
        t.begin_frame(&ctx);
        let started = std::time::Instant::now();
        assert!(matches!(t.get(0, Some(&good), 8), Thumb::Loading));
        assert!(matches!(t.get(1, Some(&bad), 8), Thumb::Loading));
        assert!(
            started.elapsed() < std::time::Duration::from_millis(100),
            "the frame did not wait"
        );
        // Generous: with the whole suite running on two cores the workers can wait long.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            t.begin_frame(&ctx);
            let good_ready = matches!(t.get(0, Some(&good), 8), Thumb::Ready(_));
            let bad_broken =
                matches!(t.get(1, Some(&bad), 8), Thumb::Broken(e) if e.contains("HTTP 503"));
            if good_ready && bad_broken {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the downloads never finished"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(t.url_counts(), (1, 1));
    }
}
