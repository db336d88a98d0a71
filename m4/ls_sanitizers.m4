# SPDX-License-Identifier: GPL-2.0-only
# ls_sanitizers.m4 - --enable-sanitizers: AddressSanitizer and
# UndefinedBehaviorSanitizer (float-cast-overflow included: out-of-range
# durations were found by it), every finding fatal so a test run fails on it

AC_DEFUN([LS_ENABLE_SANITIZERS], [
	AC_ARG_ENABLE([sanitizers],
		[AS_HELP_STRING([--enable-sanitizers], [build with ASan and UBSan; any finding aborts])],
		[], [enable_sanitizers=no])
	LS_SAN_FLAGS=""
	AS_IF([test "x$enable_sanitizers" = xyes], [
		LS_SAN_FLAGS="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
		ls_save_CFLAGS=$CFLAGS; ls_save_LDFLAGS=$LDFLAGS
		CFLAGS="$CFLAGS $LS_SAN_FLAGS"; LDFLAGS="$LDFLAGS $LS_SAN_FLAGS"
		AC_MSG_CHECKING([whether $CC links with $LS_SAN_FLAGS])
		AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
			[AC_MSG_RESULT([no])
			 AC_MSG_ERROR([$CC cannot build with sanitizers: install gcc's libasan and libubsan (Debian: build-essential brings them)])])
		CFLAGS=$ls_save_CFLAGS; LDFLAGS=$ls_save_LDFLAGS
	])
	AC_ARG_ENABLE([fuzzing],
		[AS_HELP_STRING([--enable-fuzzing], [with clang: libFuzzer coverage too, for make check-fuzz])],
		[], [enable_fuzzing=no])
	AS_IF([test "x$enable_fuzzing" = xyes], [
		LS_SAN_FLAGS="$LS_SAN_FLAGS -fsanitize=fuzzer-no-link"
		ls_save_CFLAGS=$CFLAGS; ls_save_LDFLAGS=$LDFLAGS
		CFLAGS="$CFLAGS $LS_SAN_FLAGS -fsanitize=fuzzer"; LDFLAGS="$LDFLAGS $LS_SAN_FLAGS -fsanitize=fuzzer"
		AC_MSG_CHECKING([whether $CC builds libFuzzer targets])
		AC_LINK_IFELSE([AC_LANG_SOURCE([[
#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }]])],
			[AC_MSG_RESULT([yes])],
			[AC_MSG_RESULT([no])
			 AC_MSG_ERROR([libFuzzer needs clang and its runtime: ./configure CC=clang (Debian: apt install clang libclang-rt-dev)])])
		CFLAGS=$ls_save_CFLAGS; LDFLAGS=$ls_save_LDFLAGS
	])
	AM_CONDITIONAL([LS_FUZZING], [test "x$enable_fuzzing" = xyes])
	AC_SUBST([LS_SAN_FLAGS])
])
