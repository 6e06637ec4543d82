// Types only: see express.d.ts. Importing this file at run time does nothing.
'use strict'
