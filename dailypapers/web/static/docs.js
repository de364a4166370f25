// Swagger UI over our OpenAPI description (kept in a file: the page allows no inline script).
window.addEventListener("load", function () {
  if (typeof SwaggerUIBundle !== "function") return;
  SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
