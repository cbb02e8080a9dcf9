// The inspector's view of ncursesw (docs/DESIGN.md): wide-character curses, and functions for what
// the header only offers as macros, which Swift cannot import. Only Sources/TUI/Terminal
// includes this module.
#ifndef DEVSERVE_CNCURSESW_SHIM_H
#define DEVSERVE_CNCURSESW_SHIM_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline WINDOW *devserve_curses_stdscr(void) { return stdscr; }
static inline int devserve_curses_lines(void) { return LINES; }
static inline int devserve_curses_columns(void) { return COLS; }
static inline int devserve_curses_colors(void) { return COLORS; }

static inline attr_t devserve_curses_bold(void) { return A_BOLD; }
static inline attr_t devserve_curses_dim(void) { return A_DIM; }
static inline attr_t devserve_curses_reverse(void) { return A_REVERSE; }
static inline attr_t devserve_curses_underline(void) { return A_UNDERLINE; }
static inline attr_t devserve_curses_normal(void) { return A_NORMAL; }

static inline int devserve_curses_key_f(int n) { return KEY_F(n); }

static inline mmask_t devserve_curses_wheel_up(void) { return BUTTON4_PRESSED; }
#ifdef BUTTON5_PRESSED
static inline mmask_t devserve_curses_wheel_down(void) { return BUTTON5_PRESSED; }
#else
static inline mmask_t devserve_curses_wheel_down(void) { return 0; }
#endif
static inline mmask_t devserve_curses_click(void) { return BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED; }
static inline mmask_t devserve_curses_mouse_mask(void) {
    return BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON4_PRESSED | devserve_curses_wheel_down();
}

/// Draws `count` UTF-8 bytes at (row, column) with `attributes` and colour pair `pair`.
static inline void devserve_curses_put(int row, int column, const char *text, int count, attr_t attributes, short pair) {
    attr_set(attributes, pair, NULL);
    mvaddnstr(row, column, text, count);
}

/// Fills the rest of the current line with blanks in the current attributes.
static inline void devserve_curses_clear_to_eol(void) { clrtoeol(); }

#endif
