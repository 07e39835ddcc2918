// Starts GraphiQL on the Simpul hub's GraphQL page (hub/graphiql/page.py). Its
// settings come from the page's JSON data block; nothing is loaded from elsewhere.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("simpul-graphiql-config").textContent);
  var root = document.getElementById("graphiql");
  root.textContent = "";
  var fetcher = GraphiQL.createFetcher({ url: config.url });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.defaultHeaders,
      shouldPersistHeaders: false, // a token must not outlive the tab in localStorage
      defaultEditorToolsVisibility: "headers",
    })
  );
})();
