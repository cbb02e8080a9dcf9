/* A shared library that is not a plugin: it exports no devserve_plugin_entry. */
int devserve_fixture_not_a_plugin(void) { return 42; }
