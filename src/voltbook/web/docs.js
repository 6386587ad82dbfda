// The API reference, rendered from /openapi.json by the vendored Swagger UI.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#reference", deepLinking: true });
