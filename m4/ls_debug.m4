# SPDX-License-Identifier: GPL-2.0-only
# ls_debug.m4 - --enable-debug: warnings as errors and no optimisation

AC_DEFUN([LS_ENABLE_DEBUG], [
	AC_ARG_ENABLE([debug],
		[AS_HELP_STRING([--enable-debug], [build with -O0 -g3 and warnings as errors])],
		[], [enable_debug=no])
	LS_CFLAGS="-Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 -Wstrict-prototypes"
	# gcc only (clang builds the sanitizer pass): keep what the compiler knows
	ls_save_CFLAGS=$CFLAGS
	for ls_flag in -Wno-format-truncation; do
		CFLAGS="$ls_save_CFLAGS -Werror $ls_flag"
		AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])], [LS_CFLAGS="$LS_CFLAGS $ls_flag"])
	done
	CFLAGS=$ls_save_CFLAGS
	AS_IF([test "x$enable_debug" = xyes],
		[LS_CFLAGS="$LS_CFLAGS -O0 -g3 -Werror"])
	AC_SUBST([LS_CFLAGS])
])
