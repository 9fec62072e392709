"""What every page must hold to on every screen (issue 21), checked in the browser by
``site.check(page)``: no sideways scrolling, and no form control whose text is cut off."""
from __future__ import annotations

# For each visible form control (input, select, textarea, button): its content does not
# overflow its box (scrollWidth <= clientWidth); an input's value or placeholder fits the room
# inside its padding (measured with its own font); a select is at least as wide as the
# browser itself makes it for its longest choice (its max-content width: whichever choice the
# visitor picks must read whole). Controls of one pixel or less are visually hidden on purpose
# (the file input under the photo button).
CLIPPED_CONTROLS = """() => {
  const context = document.createElement("canvas").getContext("2d");
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea, button")) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") continue;
    if (["hidden", "checkbox", "radio", "file"].includes(el.type)) continue;
    const name = el.id || el.name || el.textContent.trim().slice(0, 40);
    if (el.scrollWidth > el.clientWidth) {
      problems.push(`${name}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
    }
    if (el.tagName === "SELECT") {
      // Through the CSSOM, which the Content-Security-Policy allows; put back at once.
      const saved = el.style.cssText, width = el.getBoundingClientRect().width;
      el.style.cssText += ";width:max-content;min-width:0;max-width:none";
      const natural = el.getBoundingClientRect().width;
      el.style.cssText = saved;
      if (natural > width + 0.5) {
        problems.push(`${name}: ${Math.floor(width)} px wide, its longest choice needs ` +
                      `${Math.ceil(natural)}`);
      }
      continue;
    }
    const texts = el.tagName === "INPUT" ? [el.value || el.placeholder || ""] : [];
    context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const text of texts) {
      const needed = context.measureText(text).width;
      if (needed > room + 0.5) {
        problems.push(`${name}: "${text}" needs ${Math.ceil(needed)} px, has ${Math.floor(room)}`);
      }
    }
  }
  return problems;
}"""

WIDTHS = "({page: document.documentElement.scrollWidth, window: window.innerWidth})"


def assert_holds(page) -> None:
    # A phone browser zooms out to show content wider than the screen, and then innerWidth
    # grows with the content: compare with the device's width too.
    widths = page.evaluate(WIDTHS)
    screen = page.viewport_size["width"]
    assert widths["page"] <= widths["window"] == screen, (
        f"{page.url} scrolls sideways at {screen} px: {widths}")
    clipped = page.evaluate(CLIPPED_CONTROLS)
    assert not clipped, f"Clipped controls on {page.url} at {screen} px:\n" + "\n".join(clipped)
