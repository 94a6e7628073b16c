//! The merchant's events, in the order they happened: every event the
//! server made for it, whether or not it has a webhook endpoint, and
//! whether or not the endpoint took it.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use contract::EventList;
use serde::Deserialize;

use super::page_size;
use super::sessions::merchant;
use crate::error::ApiError;
use crate::AppState;

/// Where a page starts and how long it is.
#[derive(Debug, Default, Deserialize)]
pub struct ListOptions {
    /// The events after this one (from the first when absent).
    after: Option<String>,
    /// How many (1 to 100; 10 by default).
    limit: Option<i64>,
}

/// `GET /events?after=&limit=`, with the merchant's secret key.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    options: Result<Query<ListOptions>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventList>, ApiError> {
    let merchant = merchant(&state, &headers)?;
    let Query(options) = options.map_err(|rejection| ApiError::invalid(rejection.body_text()))?;
    let limit = page_size(options.limit)?;
    let page =
        crate::webhooks::merchant_events(&state, &merchant.id, options.after.as_deref(), limit)
            .await?;
    Ok(Json(page))
}
