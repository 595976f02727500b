/* global L */
// The directory map: Leaflet (served from this site), the configured tiles if any, the configured
// GeoJSON boundary layers (so the map is usable with no tile server), and the shops as markers.
// Everything it shows is also in the page's list; without JavaScript the map region stays empty.
(function () {
  'use strict';
  var el = document.getElementById('map');
  if (!el || typeof L === 'undefined') return;
  L.Icon.Default.imagePath = el.dataset.leaflet + 'images/';
  var map = L.map(el, { scrollWheelZoom: false });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" hreflang="en">Leaflet</a>');
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || '' }).addTo(map);
  }
  map.setView([35.0, 135.0], 5);

  function getJson(url) {
    return fetch(url, { headers: { accept: 'application/geo+json, application/json' } }).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status);
      return r.json();
    });
  }

  var bounds = null;
  function extend(b) {
    if (!b || !b.isValid()) return;
    bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
  }

  var boundaries = getJson(el.dataset.boundaries).then(function (geo) {
    var layer = L.geoJSON(geo, {
      style: { color: '#0b4fa8', weight: 2, fillColor: '#8fb3e0', fillOpacity: 0.15 },
      interactive: false,
    }).addTo(map);
    return layer.getBounds();
  });

  var shops = getJson(el.dataset.shops).then(function (geo) {
    var focus = el.dataset.focus;
    var layer = L.geoJSON(geo, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        // On a results map markers can sit closer than a 24px target; the list above links every shop,
        // so there the markers stay out of the tab order (WCAG 2.5.8's equivalent-control exception).
        return L.marker(latlng, { title: p.name, alt: p.name, keyboard: Boolean(focus) });
      },
      onEachFeature: function (feature, marker) {
        var p = feature.properties;
        var link = document.createElement('a');
        link.href = p.url;
        link.textContent = p.name;
        var box = document.createElement('div');
        box.appendChild(link);
        var cat = document.createElement('div');
        cat.textContent = p.category;
        box.appendChild(cat);
        marker.bindPopup(box);
        if (marker.getElement)
          marker.on('add', function () {
            var img = marker.getElement();
            if (img) img.setAttribute('data-shop', p.id);
          });
        if (focus && p.id === focus)
          marker.on('add', function () {
            marker.openPopup();
          });
      },
    }).addTo(map);
    return layer.getBounds();
  });

  Promise.allSettled([shops, boundaries]).then(function (results) {
    var shopBounds = results[0].status === 'fulfilled' ? results[0].value : null;
    var lineBounds = results[1].status === 'fulfilled' ? results[1].value : null;
    extend(shopBounds && shopBounds.isValid() ? shopBounds : lineBounds);
    if (bounds) map.fitBounds(bounds.pad(0.1), { maxZoom: el.dataset.focus ? 16 : 15 });
    el.setAttribute('data-ready', 'true');
  });
})();
