/* exports no dm_descriptor */
int not_a_migration(void);
int not_a_migration(void) { return 1; }
