//! `/docs`: the interactive documentation of the running sandbox, offline. The page is our own
//! (titled for the product, no Swagger "Explore" bar, authorization kept across reloads); the
//! Swagger UI assets come from `utoipa-swagger-ui`, embedded in the binary. "Try it out" calls
//! the first server of the served description, which is this sandbox itself.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

/// The page: Swagger UI in its base layout on `/openapi.json`.
const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Confirma Finance Partner API · sandbox</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <style>
    /* For OpenAPI 3.1 Swagger UI copies the global servers into every operation and shows a
       menu there that overrides the page's: the description has no per-operation servers, so
       the one menu at the top decides (its first entry: this sandbox). */
    .opblock .operation-servers { display: none; }
  </style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      persistAuthorization: true,
      displayRequestDuration: true,
      tryItOutEnabled: true,
    });
  </script>
</body>
</html>
"##;

static ASSETS: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
    LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from("/openapi.json")));

async fn asset(Path(file): Path<String>) -> Response {
    match utoipa_swagger_ui::serve(&file, ASSETS.clone()) {
        Ok(Some(found)) => (
            [(header::CONTENT_TYPE, found.content_type)],
            found.bytes.into_owned(),
        )
            .into_response(),
        _ => confirma_server::ApiError::unknown_route("GET", &format!("/docs/{file}"))
            .into_response(),
    }
}

/// The documentation routes.
pub fn router() -> axum::Router {
    axum::Router::new()
        .route("/docs", get(|| async { Html(PAGE) }))
        .route("/docs/", get(|| async { Html(PAGE) }))
        .route("/docs/{file}", get(asset))
}
