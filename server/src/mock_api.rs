//! A stand-in for a public products API (shaped like dummyjson's
//! `/products/{id}`), so the posts demo makes real HTTP calls without the
//! internet. Its latency is configurable to make the two fetch styles'
//! difference easy to see; the app can be pointed at any other API instead.

use std::{net::SocketAddr, time::Duration};

use axum::{Json, Router, extract::Path, http::StatusCode, routing::get};
use serde_json::{Value, json};

/// (title, description, price, rating, brand, category)
#[rustfmt::skip]
type Item = (&'static str, &'static str, f64, f64, &'static str, &'static str);

// A table reads best with one item per line.
#[rustfmt::skip]
const CATALOG: [Item; 10] = [
    ("Aurora Desk Lamp", "A dimmable LED lamp with a warm-to-cool slider and a weighted brass base.", 49.99, 4.6, "Lumen & Co", "home-decoration"),
    ("Trailhead Daypack 22L", "A light, water-resistant pack with a padded laptop sleeve and hip belt.", 79.0, 4.4, "Northpass", "bags"),
    ("Ceramic Pour-Over Set", "A hand-glazed dripper and carafe for two cups, with reusable filters.", 34.5, 4.8, "Kiln Street", "kitchen-accessories"),
    ("Cadence Wireless Earbuds", "Noise-cancelling earbuds with 28 hours of battery and a pocket-size case.", 119.99, 4.2, "Sonora", "mobile-accessories"),
    ("Merino Crew Sweater", "A midweight sweater in fine merino that stays warm and never itches.", 89.0, 4.7, "Fellside", "mens-shirts"),
    ("Citrus Grove Hand Soap", "A plant-based liquid soap with bergamot and sweet orange oils.", 8.99, 4.5, "Meadow Lane", "skin-care"),
    ("Atlas Running Shoes", "Cushioned road shoes with a breathable knit upper and a rocker sole.", 129.0, 4.3, "Stride Lab", "mens-shoes"),
    ("Nimbus Throw Blanket", "An oversized waffle-knit cotton throw, machine washable.", 59.0, 4.9, "Lumen & Co", "home-decoration"),
    ("Field Notes Journal", "A dot-grid notebook with 192 pages of fountain-pen-friendly paper.", 16.0, 4.6, "Papermill", "stationery"),
    ("Orbit Smartwatch", "A watch with heart-rate, GPS and a week of battery on one charge.", 199.99, 4.1, "Sonora", "mens-watches"),
];

/// Where the app fetches products: `STATESIDE_PRODUCTS_URL`, or this mock
/// on the server's own address.
pub fn products_url(site: SocketAddr) -> String {
    std::env::var("STATESIDE_PRODUCTS_URL")
        .unwrap_or_else(|_| format!("http://{site}/api/products"))
}

/// `GET /api/products/{id}` for ids 1 to 10, each answered after
/// `STATESIDE_MOCK_LATENCY_MS` (300 ms unless set).
pub fn routes() -> Router {
    let latency = latency();
    Router::new().route(
        "/api/products/{id}",
        get(move |Path(id): Path<usize>| product(id, latency)),
    )
}

fn latency() -> Duration {
    const DEFAULT_MS: u64 = 300;
    let millis = match std::env::var("STATESIDE_MOCK_LATENCY_MS") {
        Err(_) => DEFAULT_MS,
        Ok(text) => text.parse().unwrap_or_else(|_| {
            tracing::warn!(%text, "STATESIDE_MOCK_LATENCY_MS is not a number of ms; using {DEFAULT_MS}");
            DEFAULT_MS
        }),
    };
    Duration::from_millis(millis)
}

async fn product(id: usize, latency: Duration) -> Result<Json<Value>, StatusCode> {
    tokio::time::sleep(latency).await;
    let &(title, description, price, rating, brand, category) = CATALOG
        .get(id.wrapping_sub(1))
        .ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(json!({
        "id": id,
        "title": title,
        "description": description,
        "price": price,
        "rating": rating,
        "brand": brand,
        "category": category,
        "stock": 20 + id * 7 % 50,
        "thumbnail": format!("/api/products/{id}/thumbnail.webp"),
    })))
}
