// Presentation mode, for showing the network to a room: full screen, type readable from the back
// (body text 24 px and up, the network's labels 18 px and up at 1920x1080), the pad and the network
// large. The Present button or the P key switches it on and off.

const NETWORK_FONT_SCALE = 1.7; // the network's smallest label, 11 px, becomes 19 px

export class Presentation {
  /** button: the Present button; network: the NetworkView (its labels grow too). */
  constructor(button, network) {
    this.button = button;
    this.network = network;
    this.on = false;
    button.addEventListener("click", () => this.toggle());
    document.addEventListener("fullscreenchange", () => {
      if (!document.fullscreenElement && this.on && this.wentFullScreen) this.set(false); // Esc left full screen
    });
  }

  toggle() {
    this.set(!this.on);
  }

  async set(on) {
    this.on = on;
    document.body.classList.toggle("presenting", on);
    this.button.setAttribute("aria-pressed", String(on));
    this.button.firstChild.textContent = on ? "End presentation " : "Present ";
    this.network.setFontScale(on ? NETWORK_FONT_SCALE : 1);
    if (on && !document.fullscreenElement) {
      try {
        await document.documentElement.requestFullscreen();
        this.wentFullScreen = true;
      } catch {
        this.wentFullScreen = false; // no full screen here (a frame, a headless browser): large type still helps
      }
    } else if (!on && document.fullscreenElement) {
      this.wentFullScreen = false;
      await document.exitFullscreen().catch(() => {});
    }
    window.scrollTo({ top: 0 });
  }
}
