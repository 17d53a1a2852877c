/* /docs: start Swagger UI on /openapi.json (same origin). Kept out of the HTML so that the
 * page's Content-Security-Policy needs no inline script. validatorUrl: null stops Swagger UI
 * from asking an outside validator for a badge. */
window.addEventListener('DOMContentLoaded', function () {
  'use strict';
  if (typeof SwaggerUIBundle === 'undefined') {
    document.getElementById('swagger-ui').textContent =
      'Swagger UI did not load from /static/vendor/swagger-ui/: run `npm ci` in web/.';
    return;
  }
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'BaseLayout',
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    persistAuthorization: false,   // a token typed into "Authorize" is not stored
  });
});
