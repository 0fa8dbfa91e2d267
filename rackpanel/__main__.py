from rackpanel.cli import main

raise SystemExit(main())
