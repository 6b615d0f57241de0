// Carte publique des quartiers : contours QPV et communes en GeoJSON, sans fond de carte externe.
// La page reste complète sans ce script : la liste des quartiers suit la carte.
(function () {
  "use strict";
  function init() {
    var el = document.getElementById("map");
    if (!el || typeof L === "undefined") return;
    fetch(el.dataset.geojson, { headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        el.innerHTML = "";
        var map = L.map(el, { attributionControl: true, zoomSnap: 0.25 });
        map.attributionControl.setPrefix(false);
        map.attributionControl.addAttribution("ANCT, IGN");
        var communes = L.geoJSON(data, {
          filter: function (f) { return f.properties.nature === "commune"; },
          style: { color: "#5c5c5c", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1 },
          interactive: false,
        }).addTo(map);
        var qpvs = L.geoJSON(data, {
          filter: function (f) { return f.properties.nature === "qpv"; },
          style: { color: "#7a1f3d", weight: 2, fillColor: "#b3385f", fillOpacity: 0.45 },
          onEachFeature: function (f, layer) {
            var link = document.createElement("a");
            link.href = f.properties.url;
            link.textContent = f.properties.nom;
            layer.bindPopup(link);
            layer.bindTooltip(f.properties.nom);
          },
        }).addTo(map);
        var bounds = communes.getBounds().isValid() ? communes.getBounds() : qpvs.getBounds();
        if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
      })
      .catch(function () {
        el.querySelector(".map-fallback").textContent =
          "La carte n'a pas pu être chargée. La liste des quartiers ci-dessous contient les mêmes informations.";
      });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
