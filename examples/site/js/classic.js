// A classic (non-module) script: editing it reloads the pages that load it.
document.getElementById("classic").textContent = "classic script: ran at " + new Date().toLocaleTimeString();
