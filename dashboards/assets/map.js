// The map page (/admin/dashboards/map): Leaflet (served from this origin) draws the GeoJSON
// boundary layer shaded by the number of entities per area and the located NGSIv2 entities as
// circles. Tiles only when DASHBOARDS_TILE_URL is set; without them the boundaries alone give the
// map its shape. The same figures are in the table below the map.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('map-data').textContent);
  const L = window.L;
  const map = L.map('map', { attributionControl: true });
  if (data.tiles.url)
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 18 }).addTo(map);
  const scale = ['#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
  const max = Math.max(0, ...Object.values(data.counts));
  const shade = (v) =>
    v ? scale[Math.min(scale.length - 1, Math.floor((v / (max || 1)) * scale.length))] : '#f0f0f0';
  let bounds = null;
  if (data.boundaries) {
    const layer = L.geoJSON(data.boundaries, {
      style: (f) => ({
        color: '#333',
        weight: 1,
        fillColor: shade(data.counts[f.properties.area]),
        fillOpacity: 0.7,
      }),
      onEachFeature: (f, l) =>
        l.bindTooltip(f.properties.name + ': ' + (data.counts[f.properties.area] || 0)),
    }).addTo(map);
    bounds = layer.getBounds();
  }
  if (data.entities.features.length > 0) {
    const points = L.geoJSON(data.entities, {
      pointToLayer: (_f, latlng) =>
        L.circleMarker(latlng, {
          radius: 6,
          color: '#7a3500',
          weight: 2,
          fillColor: '#b5520b',
          fillOpacity: 0.9,
        }),
      onEachFeature: (f, l) => {
        const text = document.createElement('span');
        text.textContent = f.properties.name + ' (' + f.properties.type + ')';
        l.bindPopup(text);
      },
    }).addTo(map);
    bounds = bounds ? bounds.extend(points.getBounds()) : points.getBounds();
  }
  if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  else map.setView([35.681, 139.767], 10);
  document.getElementById('map').dataset.ready = 'true';
})();
